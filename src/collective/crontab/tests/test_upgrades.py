from collective.crontab import api
from collective.crontab.exceptions import NotInstalled
from collective.crontab.health import check
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import read_job
from collective.crontab.jobs import writing_records
from collective.crontab.notifications import ALLOW_PRIVATE
from collective.crontab.state import Lease
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import store
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import timedelta
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import transaction
import unittest


PROFILE = "collective.crontab:default"
NEW_FIELDS = ("notify", "notify_recovery", "ping_url")


class UpgradeTestCase(unittest.TestCase):
    """A site with the add-on, the test user a Manager."""

    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.setup = self.portal.portal_setup
        self.registry = getUtility(IRegistry)
        setRoles(self.portal, TEST_USER_ID, ["Manager"])


class TestUpgradeTo1001(UpgradeTestCase):
    def setUp(self):
        super().setUp()
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
        with writing_records():
            for job_id in ("nightly", "hourly"):
                for name in NEW_FIELDS:
                    del self.registry.records[f"{JOBS_PREFIX}/{job_id}.{name}"]
        self.setup.setLastVersionForProfile(PROFILE, "1000")

    def record(self, job_id, name):
        return self.registry.records.get(f"{JOBS_PREFIX}/{job_id}.{name}")

    def test_the_profile_is_at_1007_and_1000_needs_the_upgrades(self):
        self.assertEqual(self.setup.getVersionForProfile(PROFILE), "1007")
        steps = self.setup.listUpgrades(PROFILE)
        self.assertEqual(
            [
                step["title"]
                for entry in steps
                for step in (entry if isinstance(entry, list) else [entry])
            ],
            [
                "Add notify, notify_recovery and ping_url to every cron job",
                "Log the cron jobs whose schedule changes meaning (Debian cron)",
                "Record the user folder of every cron job's owner",
                "Add the Crontab Clock role",
                "Add the setting that allows pings to private addresses",
                "Change logs and origins of shipped cron jobs",
                "Index the schedules and handled slots of all cron jobs",
                "Turn the leases of running cron jobs into Lease objects",
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


class TestUpgradeTo1003(UpgradeTestCase):
    def setUp(self):
        super().setUp()
        self.portal.acl_users.userFolderAddUser("editor", "secret-pw-1", [], [])
        owners = {"root": SITE_OWNER_NAME, "site": "editor", "gone": "ghost"}
        for job_id, owner in owners.items():
            api.add_job(job_id, title=job_id, runner="test.record", schedule="@daily")
            store(job_id, owner=owner)
        self.portal.manage_permission(
            "collective.crontab: Run tick", ["Manager", "Site Administrator"]
        )
        self.setup.setLastVersionForProfile(PROFILE, "1002")

    def owner(self, job_id):
        return self.registry[f"{JOBS_PREFIX}/{job_id}.owner"]

    def test_an_owner_found_only_in_the_zope_root_is_recorded_there(self):
        self.setup.upgradeProfile(PROFILE)
        self.assertEqual(self.owner("root"), "/" + SITE_OWNER_NAME)
        self.assertEqual(self.owner("site"), "editor")
        self.assertEqual(self.owner("gone"), "ghost")

    def test_the_clock_role_may_run_the_tick(self):
        self.setup.upgradeProfile(PROFILE)
        roles = {
            role["name"]
            for role in self.portal.rolesOfPermission("collective.crontab: Run tick")
            if role["selected"]
        }
        self.assertIn("Crontab Clock", roles)


class TestUpgradeTo1004(UpgradeTestCase):
    def test_upgrade_adds_the_ping_setting_switched_off(self):
        del self.registry.records[ALLOW_PRIVATE]
        self.setup.setLastVersionForProfile(PROFILE, "1003")
        self.setup.upgradeProfile(PROFILE, dest="1004")
        self.assertEqual(self.setup.getLastVersionForProfile(PROFILE), ("1004",))
        self.assertIs(self.registry[ALLOW_PRIVATE], False)

    def test_upgrade_keeps_a_setting_a_manager_switched_on(self):
        self.registry[ALLOW_PRIVATE] = True
        self.setup.setLastVersionForProfile(PROFILE, "1003")
        self.setup.upgradeProfile(PROFILE, dest="1004")
        self.assertIs(self.registry[ALLOW_PRIVATE], True)


class TestUpgradeTo1006(TickTestCase):
    def setUp(self):
        super().setUp()
        self.setup = self.portal.portal_setup
        for job_id in ("armed", "new"):
            self.add(job_id, schedule="@daily")
        # What 1005 stored: the handled slot in the job's state, no BTree.
        del self.crontab.handled
        del self.crontab.schedules
        self.crontab.state("armed").last = T0
        self.crontab.state("new").last = None
        self.setup.setLastVersionForProfile(PROFILE, "1005")
        transaction.commit()

    def test_before_the_upgrade_the_tick_and_the_health_check_say_so(self):
        with self.assertRaises(NotInstalled) as raised:
            api.tick(T0)
        self.assertIn("needs its upgrade steps", str(raised.exception))
        result = check(self.portal, T0)
        self.assertFalse(result["healthy"])
        self.assertIn("needs its upgrade steps", result["problems"][0])

    def test_upgrade_moves_the_handled_slots_and_indexes_the_schedules(self):
        self.setup.upgradeProfile(PROFILE, dest="1006")
        self.assertEqual(dict(self.crontab.handled), {"armed": T0})
        self.assertEqual(
            dict(self.crontab.schedules),
            {"armed": ("@daily", "", True), "new": ("@daily", "", True)},
        )
        for job_id in ("armed", "new"):
            self.assertNotIn("last", vars(self.crontab.state(job_id)))

    def test_after_the_upgrade_the_jobs_run_from_their_slot(self):
        self.setup.upgradeProfile(PROFILE, dest="1006")
        transaction.commit()
        summary = api.tick(T0.replace(hour=0) + timedelta(days=1, minutes=1))
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["armed"])
        self.assertIn("new", self.crontab.handled)  # armed by that tick


class TestUpgradeTo1007(TickTestCase):
    def setUp(self):
        super().setUp()
        self.setup = self.portal.portal_setup
        self.add("crashy", schedule="1 12 * * *", max_runtime=60)
        api.tick(T0)
        self.crontab.state("crashy").lease = {
            "slot": T0,
            "started": T0,
            "client": "dead:1",
            "expires": T0 + minutes(1),
        }
        self.crontab.running["crashy"] = T0 + minutes(1)
        self.setup.setLastVersionForProfile(PROFILE, "1006")
        transaction.commit()

    def test_a_stored_lease_becomes_a_lease_the_engine_reads(self):
        self.setup.upgradeProfile(PROFILE)
        lease = self.crontab.state("crashy").lease
        self.assertIsInstance(lease, Lease)
        self.assertEqual(
            lease.as_dict(),
            {
                "slot": T0,
                "started": T0,
                "client": "dead:1",
                "expires": T0 + minutes(1),
            },
        )
        transaction.commit()
        summary = api.tick(T0 + minutes(2))
        self.assertEqual(summary["abandoned"], [{"job": "crashy"}])
        statuses = [run["status"] for run in api.history("crashy", limit=None)]
        self.assertEqual(statuses, ["success", "abandoned"])
