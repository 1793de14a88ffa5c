from collective.crontab import api
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import read_job
from collective.crontab.testing import INTEGRATION_TESTING
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import unittest


PROFILE = "collective.crontab:default"
NEW_FIELDS = ("notify", "notify_recovery", "ping_url")


class TestUpgradeTo1001(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.setup = self.portal.portal_setup
        self.registry = getUtility(IRegistry)
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        for job_id in ("nightly", "hourly"):
            api.add_job(
                job_id,
                title=job_id,
                runner="test.record",
                schedule="@daily",
                arguments={"keep": "3"},
                max_runtime=60,
            )
        self.make_1000()

    def make_1000(self):
        """What a site installed with version 1000 has: no records of the new
        fields, and the profile at 1000."""
        for job_id in ("nightly", "hourly"):
            for name in NEW_FIELDS:
                del self.registry.records[f"{JOBS_PREFIX}/{job_id}.{name}"]
        self.setup.setLastVersionForProfile(PROFILE, "1000")

    def record(self, job_id, name):
        return self.registry.records.get(f"{JOBS_PREFIX}/{job_id}.{name}")

    def test_the_profile_is_at_1005_and_1000_needs_the_upgrades(self):
        self.assertEqual(self.setup.getVersionForProfile(PROFILE), "1005")
        steps = self.setup.listUpgrades(PROFILE)
        self.assertEqual(
            [step["title"] for step in steps],
            [
                "Add notify, notify_recovery and ping_url to every cron job",
                "Log the cron jobs whose schedule changes meaning (Debian cron)",
                "Change logs and origins of shipped cron jobs",
            ],
        )

    def test_jobs_without_the_records_read_with_defaults(self):
        self.assertIsNone(self.record("nightly", "notify"))
        job = read_job("nightly")
        self.assertEqual(
            (job.notify, job.notify_recovery, job.ping_url), ([], False, "")
        )

    def test_upgrade_adds_the_records_and_keeps_the_values(self):
        self.setup.upgradeProfile(PROFILE, dest="1001")
        self.assertEqual(self.setup.getLastVersionForProfile(PROFILE), ("1001",))
        for job_id in ("nightly", "hourly"):
            self.assertEqual(self.record(job_id, "notify").value, [])
            self.assertIs(self.record(job_id, "notify_recovery").value, False)
            self.assertEqual(self.record(job_id, "ping_url").value, "")
            self.assertEqual(self.record(job_id, "arguments").value, {"keep": "3"})
            self.assertEqual(self.record(job_id, "max_runtime").value, 60)

    def test_after_the_upgrade_the_new_fields_can_be_set(self):
        self.setup.upgradeProfile(PROFILE)
        api.update_job(
            "nightly", notify=["ops@example.org"], ping_url="https://hc-ping.com/x"
        )
        self.assertEqual(self.record("nightly", "notify").value, ["ops@example.org"])
        self.assertEqual(read_job("nightly").ping_url, "https://hc-ping.com/x")
