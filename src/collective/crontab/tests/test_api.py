"""The Python API: validation, owner rule, permissions, shipped jobs."""

from AccessControl import Unauthorized
from collective.crontab import api
from collective.crontab.exceptions import JobError
from collective.crontab.testing import INTEGRATION_TESTING
from plone.app.testing import login
from plone.app.testing import logout
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.registry.interfaces import IRegistry
from Products.CMFCore.utils import getToolByName
from zope.component import getUtility

import unittest


class APITestCase(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])

    def add(self, job_id="nightly", **fields):
        values = {"title": "Nightly", "runner": "test.record", "schedule": "0 3 * * *"}
        values.update(fields)
        return api.add_job(job_id, **values)

    def assertJobError(self, field, words, job_id="nightly", **fields):
        with self.assertRaises(JobError) as caught:
            self.add(job_id, **fields)
        self.assertIn(field, caught.exception.errors)
        text = str(caught.exception)
        self.assertTrue(text.startswith(f"Cron job '{job_id}': "), text)
        self.assertIn(words, caught.exception.errors[field])
        return caught.exception


class TestJobs(APITestCase):
    def test_add_returns_job_with_defaults(self):
        job = self.add()
        self.assertEqual(job["title"], "Nightly")
        self.assertTrue(job["enabled"])
        self.assertEqual(job["catch_up"], "skip")
        self.assertEqual(job["max_runtime"], 3600)
        self.assertEqual(job["history"], 100)
        self.assertEqual(job["arguments"], {})
        self.assertEqual(job["owner"], TEST_USER_ID)

    def test_stored_as_registry_records(self):
        self.add(arguments={"days": "3"})
        registry = getUtility(IRegistry)
        self.assertEqual(
            registry["collective.crontab.jobs/nightly.schedule"], "0 3 * * *"
        )
        self.assertEqual(
            registry["collective.crontab.jobs/nightly.arguments"], {"days": "3"}
        )

    def test_jobs_lists_with_state(self):
        self.add("a-job")
        self.add("b-job", enabled=False)
        jobs = api.jobs()
        self.assertEqual([job["id"] for job in jobs], ["a-job", "b-job"])
        self.assertIsNotNone(jobs[0]["next_run"])
        self.assertIsNone(jobs[1]["next_run"])
        self.assertIsNone(jobs[0]["last_run"])

    def test_next_run_in_job_timezone(self):
        job = self.add(timezone="Asia/Tokyo", schedule="0 9 * * *")
        self.assertEqual(job["next_run"].astimezone(job["next_run"].tzinfo).minute, 0)
        self.assertEqual(job["next_run"].hour, 0)  # 09:00 Tokyo is 00:00 UTC

    def test_empty_timezone_uses_site_timezone(self):
        getUtility(IRegistry)["plone.portal_timezone"] = "Europe/Berlin"
        self.assertEqual(self.add()["effective_timezone"], "Europe/Berlin")

    def test_update_changes_only_given_fields(self):
        self.add()
        job = api.update_job("nightly", schedule="@hourly")
        self.assertEqual(job["schedule"], "@hourly")
        self.assertEqual(job["title"], "Nightly")

    def test_delete(self):
        self.add()
        api.delete_job("nightly")
        self.assertEqual(api.jobs(), [])
        with self.assertRaises(KeyError):
            api.get_job("nightly")

    def test_unknown_job(self):
        with self.assertRaises(KeyError) as caught:
            api.update_job("nope", title="x")
        self.assertIn("There is no cron job 'nope'", str(caught.exception))


class TestOwner(APITestCase):
    def setUp(self):
        super().setUp()
        acl_users = getToolByName(self.portal, "acl_users")
        acl_users.userFolderAddUser(
            "siteadmin", "secret-password", ["Site Administrator"], []
        )
        acl_users.userFolderAddUser("editor", "secret-password", ["Editor"], [])

    def test_editing_user_becomes_owner(self):
        self.add()
        login(self.portal, "siteadmin")
        job = api.update_job("nightly", title="Changed")
        self.assertEqual(job["owner"], "siteadmin")

    def test_manager_may_name_another_owner(self):
        self.assertEqual(self.add(owner="editor")["owner"], "editor")

    def test_manager_cannot_name_unknown_owner(self):
        self.assertJobError("owner", "user 'ghost' does not exist", owner="ghost")

    def test_site_administrator_cannot_name_another_owner(self):
        login(self.portal, "siteadmin")
        with self.assertRaises(Unauthorized) as caught:
            self.add(owner=SITE_OWNER_NAME)
        self.assertIn(
            "only a Manager may make a job run as another user", str(caught.exception)
        )
        login(self.portal, TEST_USER_NAME)
        self.assertEqual(api.jobs(), [])

    def test_site_administrator_may_manage_jobs(self):
        login(self.portal, "siteadmin")
        self.assertEqual(self.add()["owner"], "siteadmin")


class TestPermissions(APITestCase):
    def test_roles_without_manage_permission_are_refused(self):
        self.add()
        for role in ("Member", "Contributor", "Editor", "Reviewer"):
            setRoles(self.portal, TEST_USER_ID, [role])
            for call in (
                lambda: api.jobs(),
                lambda: api.add_job(
                    "other", title="x", runner="test.record", schedule="@daily"
                ),
                lambda: api.update_job("nightly", enabled=False),
                lambda: api.delete_job("nightly"),
                lambda: api.run_now("nightly"),
                lambda: api.history("nightly"),
                lambda: api.tick(),
            ):
                with self.assertRaises(Unauthorized, msg=role):
                    call()
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.assertTrue(api.get_job("nightly")["enabled"])
        self.assertFalse(api.get_job("nightly")["queued"])

    def test_anonymous_refused(self):
        logout()
        with self.assertRaises(Unauthorized):
            api.jobs()


class TestShippedJobs(APITestCase):
    def test_addon_ships_job_in_registry_xml(self):
        setup = getToolByName(self.portal, "portal_setup")
        setup.runAllImportStepsFromProfile(
            "profile-collective.crontab.tests:shipped-job"
        )
        job = api.get_job("nightly-report")
        self.assertEqual(job["title"], "Nightly report")
        self.assertEqual(job["schedule"], "30 2 * * *")
        self.assertEqual(job["timezone"], "Europe/Berlin")
        self.assertEqual(job["arguments"], {"recipients": "editors"})
        self.assertEqual(job["owner"], "")
        self.assertTrue(job["enabled"])

    def test_invalid_shipped_job_fails_the_import(self):
        setup = getToolByName(self.portal, "portal_setup")
        with self.assertRaises(JobError) as caught:
            setup.runAllImportStepsFromProfile(
                "profile-collective.crontab.tests:bad-job"
            )
        message = str(caught.exception)
        self.assertIn("Cron job 'broken'", message)
        self.assertIn("schedule", message)
        self.assertIn("minute field '60'", message)
        self.assertIn("registry.xml of profile", message)
        self.assertIn("tests/profiles/bad", message)
