"""Jobs an add-on ships in registry.xml: origin, local edits kept across
re-imports, customized, revert, orphaned."""

from collective.crontab import api
from collective.crontab.exceptions import JobError
from collective.crontab.interfaces import ICronRunner
from collective.crontab.state import get_crontab
from collective.crontab.state import Origin
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.upgrades.to1005 import add_change_logs_and_origins
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from zope.component import getGlobalSiteManager

import unittest


SHIPPED = "collective.crontab.tests:shipped-job"
NEXT_VERSION = "collective.crontab.tests:shipped-job-2"
SCHEDULE_ONLY = "collective.crontab.tests:shipped-job-3"
TWEAK = "collective.crontab.tests:tweak-job"


def unregister_runner(test, name="test.record"):
    """The add-on that registered runner ``name`` is gone (until cleanup)."""
    manager = getGlobalSiteManager()
    runner = manager.getUtility(ICronRunner, name=name)
    manager.unregisterUtility(runner, ICronRunner, name=name)
    test.addCleanup(manager.registerUtility, runner, ICronRunner, name=name)


class ShippedTestCase(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.setup = self.portal.portal_setup
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.install(SHIPPED)

    def install(self, profile):
        self.setup.runAllImportStepsFromProfile(f"profile-{profile}")

    def state(self):
        return get_crontab(self.portal).state("nightly-report")

    def customized(self, job):
        """The customized fields but the owner: whether an edit makes the
        editor the owner is the owner rule's business (test_security)."""
        return [name for name in job["customized"] if name != "owner"]


class TestOrigin(ShippedTestCase):
    def test_a_shipped_job_knows_its_profile_and_is_not_customized(self):
        job = api.get_job("nightly-report")
        self.assertEqual(job["origin"], SHIPPED)
        self.assertEqual(job["customized"], [])
        self.assertFalse(job["orphaned"])
        self.assertEqual(job["shipped"]["schedule"], "30 2 * * *")
        self.assertEqual(job["shipped"]["arguments"], {"recipients": "editors"})

    def test_a_job_made_here_has_no_origin(self):
        api.add_job("local", title="Local", runner="test.record", schedule="@daily")
        job = api.get_job("local")
        self.assertEqual((job["origin"], job["customized"]), (None, []))
        with self.assertRaises(JobError) as caught:
            api.revert_job("local")
        self.assertIn("origin", caught.exception.errors)

    def test_the_import_is_in_the_change_log(self):
        (entry,) = api.changes("nightly-report")
        self.assertEqual(
            (entry["who"], entry["via"], entry["note"]),
            (TEST_USER_ID, "import", SHIPPED),
        )
        fields = {item["field"]: (item["old"], item["new"]) for item in entry["fields"]}
        self.assertEqual(fields["schedule"], (None, "30 2 * * *"))


class TestReimport(ShippedTestCase):
    def test_reimport_keeps_local_edits(self):
        api.update_job("nightly-report", enabled=False, schedule="0 4 * * *")
        self.install(SHIPPED)
        job = api.get_job("nightly-report")
        self.assertFalse(job["enabled"])
        self.assertEqual(job["schedule"], "0 4 * * *")
        self.assertEqual(self.customized(job), ["schedule", "enabled"])
        self.assertEqual(job["shipped"]["schedule"], "30 2 * * *")

    def test_reimport_keeps_the_owner_named_here(self):
        api.update_job("nightly-report", owner=TEST_USER_ID)
        self.install(SHIPPED)
        job = api.get_job("nightly-report")
        self.assertEqual(job["owner"], TEST_USER_ID)
        self.assertEqual(job["customized"], ["owner"])
        self.assertEqual(job["shipped"]["owner"], "")

    def test_reimporting_only_the_registry_step_keeps_local_edits(self):
        api.update_job("nightly-report", schedule="0 4 * * *")
        self.setup.runImportStepFromProfile(f"profile-{SHIPPED}", "plone.app.registry")
        self.assertEqual(api.get_job("nightly-report")["schedule"], "0 4 * * *")

    def test_next_version_brings_its_changes_and_keeps_local_ones(self):
        api.update_job("nightly-report", schedule="0 4 * * *")
        self.install(NEXT_VERSION)
        job = api.get_job("nightly-report")
        self.assertEqual(job["title"], "Nightly report (version 2)")
        self.assertEqual(job["schedule"], "0 4 * * *")
        self.assertEqual(job["origin"], NEXT_VERSION)
        self.assertEqual(self.customized(job), ["schedule"])
        self.assertEqual(job["shipped"]["schedule"], "45 2 * * *")
        entry = api.changes("nightly-report")[0]
        self.assertEqual(entry["via"], "import")
        self.assertEqual(entry["note"], f"{NEXT_VERSION}; kept local: schedule")
        self.assertEqual(
            entry["fields"],
            [
                {
                    "field": "title",
                    "old": "Nightly report",
                    "new": "Nightly report (version 2)",
                }
            ],
        )

    def test_a_local_value_equal_to_the_new_shipped_one_is_no_longer_customized(self):
        api.update_job("nightly-report", schedule="45 2 * * *")
        self.install(NEXT_VERSION)
        self.assertEqual(self.customized(api.get_job("nightly-report")), [])

    def test_a_version_naming_only_some_fields_keeps_the_other_shipped_values(self):
        state = self.state()
        state.origin = Origin(SCHEDULE_ONLY, state.origin.values)  # its old version
        api.update_job("nightly-report", schedule="0 4 * * *")
        self.install(SCHEDULE_ONLY)
        job = api.get_job("nightly-report")
        self.assertEqual(job["schedule"], "0 4 * * *")
        self.assertEqual(job["shipped"]["schedule"], "0 1 * * *")
        self.assertEqual(job["shipped"]["title"], "Nightly report")
        self.assertEqual(self.customized(job), ["schedule"])

    def test_a_profile_tweaking_another_add_ons_job_is_logged_not_its_origin(self):
        self.install(TWEAK)
        job = api.get_job("nightly-report")
        self.assertFalse(job["enabled"])
        self.assertEqual(job["origin"], SHIPPED)
        self.assertEqual(job["customized"], ["enabled"])
        entry = api.changes("nightly-report")[0]
        self.assertEqual((entry["via"], entry["note"]), ("import", TWEAK))
        self.assertEqual(
            entry["fields"], [{"field": "enabled", "old": True, "new": False}]
        )

    def test_reimport_keeps_the_schedule_armed(self):
        api.update_job("nightly-report", schedule="0 4 * * *")
        handled = get_crontab(self.portal).handled
        handled["nightly-report"] = last = api.get_job("nightly-report")["next_run"]
        self.install(SHIPPED)
        self.assertEqual(handled["nightly-report"], last)

    def test_reimport_that_keeps_local_edits_says_so(self):
        api.update_job("nightly-report", schedule="0 4 * * *")
        self.install(SHIPPED)
        entry = api.changes("nightly-report")[0]
        self.assertEqual(entry["via"], "import")
        self.assertEqual(entry["note"], f"{SHIPPED}; kept local: schedule")
        self.assertEqual(entry["fields"], [])

    def test_unchanged_reimport_logs_nothing(self):
        self.install(SHIPPED)
        self.assertEqual(len(api.changes("nightly-report")), 1)


class TestRevert(ShippedTestCase):
    def test_revert_puts_back_the_shipped_values(self):
        api.update_job("nightly-report", enabled=False, arguments={"recipients": "me"})
        job = api.revert_job("nightly-report", via="panel")
        self.assertTrue(job["enabled"])
        self.assertEqual(job["arguments"], {"recipients": "editors"})
        self.assertNotIn("enabled", job["customized"])
        entry = api.changes("nightly-report")[0]
        self.assertEqual(
            (entry["via"], entry["note"]), ("panel", f"reverted to {SHIPPED}")
        )


class TestOrphaned(ShippedTestCase):
    def test_a_shipped_job_without_its_runner_is_orphaned_and_can_be_deleted(self):
        unregister_runner(self)
        self.assertTrue(api.get_job("nightly-report")["orphaned"])
        api.delete_job("nightly-report")
        self.assertIsNone(self.state())
        self.assertEqual([job["id"] for job in api.jobs()], [])

    def test_a_local_job_without_its_runner_is_not_orphaned(self):
        api.add_job("local", title="Local", runner="test.record", schedule="@daily")
        unregister_runner(self)
        self.assertFalse(api.get_job("local")["orphaned"])


class TestUpgrade(ShippedTestCase):
    def test_upgrade_finds_the_origin_of_jobs_shipped_before_it(self):
        state = self.state()
        state.origin = state.changes = None
        api.update_job("nightly-report", enabled=False)  # a change log again
        state.changes = None
        add_change_logs_and_origins(self.setup)
        self.assertEqual(state.origin.profile, SHIPPED)
        self.assertEqual(state.change_log(), [])
        self.assertEqual(self.customized(api.get_job("nightly-report")), ["enabled"])
