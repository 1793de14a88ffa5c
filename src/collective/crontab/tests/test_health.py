"""Health: the clock ticks and no enabled job is late (``now`` injected)."""

from collective.crontab import api
from collective.crontab.health import check
from collective.crontab.health import details
from collective.crontab.health import HEALTHY_WITHIN
from collective.crontab.schedule import utcnow
from collective.crontab.state import Lease
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import store
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import datetime
from datetime import timedelta

import transaction


def at(hour, minute, second=0):
    return T0.replace(hour=hour, minute=minute, second=second)


class TestClock(TickTestCase):
    def test_clock_that_never_ticked_is_unhealthy(self):
        result = check(self.portal, T0)
        self.assertFalse(result["healthy"])
        self.assertEqual(result["problems"], ["The clock has never ticked"])
        self.assertEqual(details(result)["status"], "FAIL")

    def test_recent_tick_is_healthy(self):
        api.tick(T0)
        result = check(self.portal, T0 + timedelta(seconds=HEALTHY_WITHIN))
        self.assertTrue(result["healthy"])
        self.assertEqual(result["clock"]["last_tick"], T0)
        self.assertEqual(result["problems"], [])
        self.assertEqual(details(result)["status"], "OK")

    def test_silent_clock_is_unhealthy(self):
        api.tick(T0)
        result = check(self.portal, T0 + timedelta(seconds=HEALTHY_WITHIN + 1))
        self.assertFalse(result["healthy"])
        self.assertFalse(result["clock"]["healthy"])
        self.assertIn("The clock has not ticked for 5 minutes", result["problems"][0])

    def test_details_are_json_with_iso_datetimes(self):
        api.tick(T0)
        data = details(check(self.portal, T0 + minutes(1)))
        self.assertEqual(data["clock"]["last_tick"], "2026-01-05T12:00:30+00:00")
        self.assertEqual(data["now"], "2026-01-05T12:01:30+00:00")


class TestLateJobs(TickTestCase):
    def hourly(self, job_id="hourly", **fields):
        self.add(job_id, schedule="0 * * * *", **fields)
        api.tick(T0)  # arms the job at 12:00:30

    def late(self, now):
        return check(self.portal, now)["late"]

    def test_job_running_on_schedule_is_not_late(self):
        self.hourly()
        api.tick(at(13, 0, 30))
        api.tick(at(14, 0, 30))
        result = check(self.portal, at(14, 4))
        self.assertTrue(result["healthy"])
        self.assertEqual(result["late"], [])

    def test_failing_job_is_late_once_its_slot_plus_grace_has_passed(self):
        self.hourly()
        api.tick(at(13, 0, 30))
        api.update_job("hourly", runner="test.fail")
        transaction.commit()
        api.tick(at(14, 0, 30))
        self.assertEqual(self.late(at(14, 5)), [])
        result = check(self.portal, at(14, 5, 30))
        self.assertFalse(result["healthy"])
        (late,) = result["late"]
        self.assertEqual(late["job"], "hourly")
        self.assertEqual(late["due"], at(14, 0))
        self.assertEqual(late["last_success"], at(13, 0))
        self.assertEqual(late["last_status"], "failure")
        self.assertEqual(
            result["problems"],
            [
                "Cron job 'hourly' is late: no successful run since its slot at "
                "2026-01-05T14:00:00+00:00 (last run: failure)"
            ],
        )

    def test_job_that_never_succeeded_is_late(self):
        self.hourly(runner="test.fail")
        api.tick(at(13, 0, 30))
        (late,) = self.late(at(13, 1))
        self.assertIsNone(late["last_success"])
        self.assertIn("none of its last runs succeeded", late["message"])

    def test_warning_counts_as_success(self):
        self.hourly(runner="test.warn")
        api.tick(at(13, 0, 30))
        self.assertEqual(self.late(at(14, 5)), [])

    def test_job_no_tick_has_armed_is_not_late(self):
        self.add("new", schedule="0 * * * *")
        self.assertEqual(self.late(at(18, 0)), [])

    def test_new_job_is_late_when_its_first_slot_passes_without_run(self):
        self.hourly()
        self.assertEqual(self.late(at(13, 5)), [])
        (late,) = self.late(at(13, 5, 1))
        self.assertEqual(late["due"], at(13, 0))
        self.assertIsNone(late["last_status"])
        self.assertIn("(last run: none)", late["message"])

    def test_reenabled_job_counts_from_its_arming(self):
        self.hourly()
        api.tick(at(13, 0, 30))
        api.update_job("hourly", enabled=False)
        transaction.commit()
        api.update_job("hourly", enabled=True)
        transaction.commit()
        self.assertEqual(self.late(at(18, 10)), [])
        api.tick(at(18, 10))  # arms it again
        self.assertEqual(self.late(at(19, 5)), [])
        (late,) = self.late(at(19, 5, 1))
        self.assertEqual(late["due"], at(19, 0))
        self.assertEqual(late["last_success"], at(13, 0))

    def test_running_job_is_not_late(self):
        self.hourly()
        state = self.crontab.state("hourly")
        expires = at(13, 0) + timedelta(hours=1)
        state.lease = Lease(at(13, 0), utcnow(), "busy:1", expires)
        transaction.commit()
        self.assertEqual(self.late(at(13, 30)), [])

    def test_disabled_job_is_never_late(self):
        self.hourly(enabled=False)
        self.assertEqual(self.late(datetime(2026, 3, 1, tzinfo=T0.tzinfo)), [])

    def test_enabled_job_with_invalid_time_zone_is_a_problem(self):
        self.hourly()
        store("hourly", timezone="Mars/Olympus")
        transaction.commit()
        result = check(self.portal, at(12, 1))
        self.assertFalse(result["healthy"])
        self.assertIn("Mars/Olympus", result["invalid"]["hourly"])
        self.assertEqual(result["problems"], [result["invalid"]["hourly"]])
