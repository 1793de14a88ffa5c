"""Who a job runs as: its owner, in the user folder it was recorded in;
the owner changes only when a Manager names another, or when someone else
changes what the job does."""

from AccessControl import Unauthorized
from collective.crontab import api
from collective.crontab import cli
from collective.crontab.exceptions import JobError
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import store
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from plone.app.testing import login
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.testing.zope import Browser

import argparse
import contextlib
import io
import transaction


PASSWORD = "secret-password-1"


class OwnerTestCase(TickTestCase):
    def setUp(self):
        super().setUp()
        users = self.portal.acl_users
        users.userFolderAddUser("siteadmin", PASSWORD, ["Site Administrator"], [])
        users.userFolderAddUser("editor", PASSWORD, ["Editor"], [])
        transaction.commit()

    def as_root_admin(self):
        login(self.layer["app"], SITE_OWNER_NAME)

    def run_once(self, job_id):
        """Arm the job at T0 and run its next slot; the recorded run."""
        api.tick(T0)
        api.tick(T0 + minutes(1))
        transaction.begin()
        return api.history(job_id)[0]

    def owner(self, job_id):
        return api.get_job(job_id)["owner"]


class TestOwnerStays(OwnerTestCase):
    """F1: enabling, disabling, running and the other fields never change
    the owner."""

    def setUp(self):
        super().setUp()
        login(self.portal, "siteadmin")
        self.add("theirs", runner="test.whoami", enabled=False)
        login(self.portal, TEST_USER_NAME)  # a Manager

    def test_a_manager_enabling_a_job_keeps_its_owner(self):
        job = api.update_job("theirs", enabled=True)
        self.assertEqual(job["owner"], "siteadmin")
        self.assertFalse(job["owner_changed"])
        transaction.commit()
        self.run_once("theirs")
        self.assertEqual(self.ran("theirs"), ["siteadmin"])

    def test_disabling_keeps_the_owner(self):
        api.update_job("theirs", enabled=True)
        api.update_job("theirs", enabled=False)
        self.assertEqual(self.owner("theirs"), "siteadmin")

    def test_changing_the_other_fields_keeps_the_owner(self):
        for fields in (
            {"title": "Renamed"},
            {"schedule": "@hourly"},
            {"timezone": "Europe/Berlin"},
            {"catch_up": "once"},
            {"history": 5},
            {"max_runtime": 60},
            {"notify": ["ops@example.org"]},
            {"notify_recovery": True},
        ):
            job = api.update_job("theirs", **fields)
            self.assertEqual(job["owner"], "siteadmin", fields)
            self.assertFalse(job["owner_changed"], fields)

    def test_running_it_now_keeps_the_owner(self):
        api.run_now("theirs", immediately=True)
        transaction.begin()
        self.assertEqual(self.ran("theirs"), ["siteadmin"])
        self.assertEqual(self.owner("theirs"), "siteadmin")

    def test_sending_the_stored_owner_back_changes_nothing(self):
        login(self.portal, "siteadmin")
        job = api.update_job("theirs", owner="siteadmin", title="Same owner")
        self.assertEqual(job["owner"], "siteadmin")
        self.assertFalse(job["owner_changed"])


class TestOwnerChanges(OwnerTestCase):
    def setUp(self):
        super().setUp()
        self.add("managers", runner="test.whoami")  # owned by the Manager

    def test_changing_the_arguments_makes_the_editor_owner_and_says_so(self):
        login(self.portal, "siteadmin")
        job = api.update_job("managers", arguments={"days": "3"})
        self.assertEqual(job["owner"], "siteadmin")
        self.assertTrue(job["owner_changed"])

    def test_changing_the_runner_makes_the_editor_owner(self):
        login(self.portal, "siteadmin")
        job = api.update_job("managers", runner="test.record")
        self.assertEqual((job["owner"], job["owner_changed"]), ("siteadmin", True))

    def test_the_owner_changing_what_it_does_stays_owner(self):
        job = api.update_job("managers", arguments={"days": "3"})
        self.assertEqual((job["owner"], job["owner_changed"]), (TEST_USER_ID, False))

    def test_a_site_administrator_cannot_take_a_job_over_by_naming_itself(self):
        login(self.portal, "siteadmin")
        with self.assertRaises(Unauthorized):
            api.update_job("managers", owner="siteadmin")
        self.assertEqual(self.owner("managers"), TEST_USER_ID)

    def test_a_manager_may_name_another_site_user(self):
        job = api.update_job("managers", owner="editor")
        self.assertEqual((job["owner"], job["owner_changed"]), ("editor", True))


class TestUserFolders(OwnerTestCase):
    """F3: owners are looked up only in the user folder they were recorded
    in; Zope-root users only by those who may manage the Zope root."""

    def test_a_site_manager_cannot_name_a_zope_root_user(self):
        # TEST_USER_ID is a Manager of the site, not of the Zope root.
        with self.assertRaises(Unauthorized) as caught:
            self.add("pack", owner="/" + SITE_OWNER_NAME)
        self.assertIn("may manage the Zope root", str(caught.exception))
        self.assertEqual(api.jobs(), [])

    def test_a_root_user_id_is_not_a_site_user(self):
        with self.assertRaises(JobError) as caught:
            self.add("pack", owner=SITE_OWNER_NAME)
        self.assertEqual(
            caught.exception.errors["owner"],
            f"user '{SITE_OWNER_NAME}' does not exist in this site",
        )

    def test_a_site_manager_editing_a_root_users_job_keeps_its_owner(self):
        self.as_root_admin()
        self.add("roots", runner="test.whoami")
        login(self.portal, TEST_USER_NAME)
        api.update_job("roots", title="Renamed", enabled=False)
        self.assertEqual(self.owner("roots"), "/" + SITE_OWNER_NAME)

    def test_a_zope_root_manager_may_name_a_zope_root_user(self):
        self.as_root_admin()
        job = self.add("pack", runner="test.whoami", owner="/" + SITE_OWNER_NAME)
        self.assertEqual(job["owner"], "/" + SITE_OWNER_NAME)
        self.assertEqual(job["runs_as"], f"{SITE_OWNER_NAME} (Zope root)")
        self.run_once("pack")
        self.assertEqual(self.ran("pack"), [SITE_OWNER_NAME])

    def test_a_root_user_adding_a_job_owns_it_in_the_root(self):
        self.as_root_admin()
        self.assertEqual(self.add("mine")["owner"], "/" + SITE_OWNER_NAME)

    def test_a_missing_site_owner_fails_and_never_falls_back_to_the_root(self):
        self.add("orphan", runner="test.whoami")
        store("orphan", owner=SITE_OWNER_NAME)
        transaction.commit()
        run = self.run_once("orphan")
        self.assertEqual(run["status"], "failure")
        self.assertIn(
            f"owner '{SITE_OWNER_NAME}' does not exist in the user folder of the site",
            run["message"],
        )
        self.assertEqual(self.ran("orphan"), [])

    def test_a_root_owner_is_looked_up_only_in_the_root(self):
        self.add("orphan", runner="test.whoami")
        store("orphan", owner="/" + TEST_USER_ID)
        transaction.commit()
        run = self.run_once("orphan")
        self.assertEqual(run["status"], "failure")
        self.assertIn(
            f"owner '{TEST_USER_ID}' does not exist in the user folder of the Zope root",
            run["message"],
        )


class TestOwnerless(OwnerTestCase):
    """Jobs without an owner (shipped in registry.xml) run with anonymous
    rights, whoever ticks: never as the clock's user."""

    def test_an_ownerless_job_runs_as_anonymous_even_when_a_manager_ticks(self):
        self.add("shipped", runner="test.whoami")
        store("shipped", owner="")
        transaction.commit()
        run = self.run_once("shipped")
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.ran("shipped"), [None])

    def test_an_ownerless_job_cannot_reach_a_manager_page(self):
        self.add(
            "shipped",
            runner="collective.crontab.call-view",
            arguments={"path": "@@overview-controlpanel"},
        )
        store("shipped", owner="")
        transaction.commit()
        run = self.run_once("shipped")
        self.assertEqual(run["status"], "failure")
        self.assertIn("Unauthorized", run["message"])

    def test_a_site_administrator_cannot_name_a_zope_root_user(self):
        login(self.portal, "siteadmin")
        with self.assertRaises(Unauthorized):
            self.add("mine", owner="/" + SITE_OWNER_NAME)

    def test_a_site_administrator_cannot_make_a_job_ownerless(self):
        login(self.portal, "siteadmin")
        with self.assertRaises(Unauthorized):
            self.add("mine", owner="")


class TestCommandLine(OwnerTestCase):
    """crontab-ctl goes through the api: the same owner rules, and runs as
    the job's owner (anonymous without one), never as the CLI's user."""

    def command(self, name, job_id):
        with contextlib.redirect_stdout(io.StringIO()):
            return cli.COMMANDS[name](argparse.Namespace(job_id=job_id, limit=1))

    def test_enable_and_disable_keep_the_owner(self):
        login(self.portal, "siteadmin")
        self.add("theirs", runner="test.whoami", enabled=False)
        login(self.portal, TEST_USER_NAME)
        self.assertEqual(self.command("enable", "theirs"), cli.OK)
        self.assertEqual(self.command("disable", "theirs"), cli.OK)
        transaction.begin()
        self.assertEqual(self.owner("theirs"), "siteadmin")

    def test_run_runs_an_ownerless_job_as_anonymous(self):
        self.add("shipped", runner="test.whoami", enabled=False)
        store("shipped", owner="")
        transaction.commit()
        self.assertEqual(self.command("run", "shipped"), cli.OK)
        transaction.begin()
        self.assertEqual(self.ran("shipped"), [None])


class TestPagesSayWhoItRunsAs(OwnerTestCase):
    def setUp(self):
        super().setUp()
        self.as_root_admin()
        self.add("roots", runner="test.record")
        transaction.commit()
        self.browser = Browser(self.layer["app"])
        self.browser.addHeader(
            "Authorization", f"Basic {SITE_OWNER_NAME}:{SITE_OWNER_PASSWORD}"
        )
        self.url = self.portal.absolute_url()

    def test_the_list_the_edit_form_and_the_delete_confirmation(self):
        for page in ("controlpanel", "edit?job=roots", "delete?job=roots"):
            self.browser.open(f"{self.url}/@@crontab-{page}")
            self.assertIn(
                f"runs as {SITE_OWNER_NAME} (Zope root)", self.browser.contents
            )
