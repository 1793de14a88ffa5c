"""1001 -> 1002 logs the stored jobs whose schedule means something else
under Debian's rules, or became invalid; it changes nothing."""

from collective.crontab.jobs import read_job
from collective.crontab.jobs import write_job
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.upgrades.to1002 import changes
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import unittest


PROFILE = "collective.crontab:default"
#: Stored before 1002 (the old validation accepted them all).
STORED = {
    "odd-mondays": ("0 0 */2 * 1", "UTC"),
    "wraps": ("0 22-2 * * *", "UTC"),
    "in-the-gap": ("* 2 * 3 0#2", "America/New_York"),
    "half-hours": ("0,30 2 * * *", "Europe/Berlin"),
    "unchanged": ("30 2 * * *", "Europe/Berlin"),
    "list-in-utc": ("0,30 2 * * *", "UTC"),
}


class TestChanges(unittest.TestCase):
    def test_same_meaning(self):
        for expression in ("30 2 * * *", "*/5 * * * *", "0 0 1 * 1", "0 9 * * 1-5"):
            with self.subTest(expression):
                self.assertEqual(changes(expression, "Europe/Berlin"), [])

    def test_day_fields_now_and(self):
        (reason,) = changes("0 0 */2 * 1", "UTC")
        self.assertIn("matching both day fields", reason)

    def test_nth_weekday_with_day_of_month_now_or(self):
        (reason,) = changes("0 0 13 * 5#2", "UTC")
        self.assertIn("either day field", reason)

    def test_day_of_week_step(self):
        (reason,) = changes("0 0 * * 1/2", "UTC")
        self.assertIn("up to 7", reason)

    def test_wrap_around_invalid(self):
        (reason,) = changes("0 22-2 * * *", "UTC")
        self.assertIn("is invalid now", reason)
        self.assertIn("wraps around", reason)

    def test_fixed_time_rule_only_where_clocks_change(self):
        self.assertEqual(changes("0,30 2 * * *", "UTC"), [])
        (reason,) = changes("0,30 2 * * *", "Europe/Berlin")
        self.assertIn("fixed times", reason)
        (reason,) = changes("0 1-5 * * *", "America/New_York")
        self.assertIn("fixed times", reason)


class TestUpgradeTo1002(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.setup = self.portal.portal_setup
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        for job_id, (schedule, zone) in STORED.items():
            write_job(
                job_id,
                {
                    "title": job_id,
                    "runner": "test.record",
                    "schedule": schedule,
                    "timezone": zone,
                },
            )
        self.setup.setLastVersionForProfile(PROFILE, "1001")

    def test_logs_each_job_whose_schedule_changes_and_keeps_it(self):
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            self.setup.upgradeProfile(PROFILE, dest="1002")
        self.assertEqual(self.setup.getLastVersionForProfile(PROFILE), ("1002",))
        warnings = [record.getMessage() for record in logs.records]
        logged = sorted(message.split("'")[1] for message in warnings)
        self.assertEqual(logged, ["half-hours", "in-the-gap", "odd-mondays", "wraps"])
        self.assertIn(
            "Cron job 'wraps': its schedule '0 22-2 * * *' (UTC) is invalid now: ",
            "\n".join(warnings),
        )
        self.assertIn(
            "Cron job 'in-the-gap': its schedule '* 2 * 3 0#2' (America/New_York) "
            "is invalid now",
            "\n".join(warnings),
        )
        for job_id, (schedule, _zone) in STORED.items():
            self.assertEqual(read_job(job_id).schedule, schedule)
