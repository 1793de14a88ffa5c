"""The scheduling maths, on its own (no Zope)."""

from collective.crontab.exceptions import ScheduleError
from collective.crontab.schedule import describe
from collective.crontab.schedule import normalize
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import UTC
from collective.crontab.schedule import validate_timezone
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import itertools
import unittest


BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


class TestNormalize(unittest.TestCase):
    def test_five_fields_pass_through(self):
        self.assertEqual(normalize("  */15  * * * 1-5 "), "*/15 * * * 1-5")

    def test_aliases(self):
        self.assertEqual(normalize("@hourly"), "0 * * * *")
        self.assertEqual(normalize("@daily"), "0 0 * * *")
        self.assertEqual(normalize("@midnight"), "0 0 * * *")
        self.assertEqual(normalize("@weekly"), "0 0 * * 0")
        self.assertEqual(normalize("@monthly"), "0 0 1 * *")
        self.assertEqual(normalize("@yearly"), "0 0 1 1 *")
        self.assertEqual(normalize("@annually"), "0 0 1 1 *")

    def assertRejected(self, expression, *words):
        with self.assertRaises(ScheduleError) as caught:
            normalize(expression)
        for word in words:
            self.assertIn(word, str(caught.exception))

    def test_six_fields(self):
        self.assertRejected("0 * * * * *", "6 fields")

    def test_four_fields(self):
        self.assertRejected("* * * *", "4 fields")

    def test_reboot(self):
        self.assertRejected("@reboot", "'@reboot' is not supported")

    def test_minute_out_of_range(self):
        self.assertRejected("60 * * * *", "minute field '60'")

    def test_hour_out_of_range(self):
        self.assertRejected("0 24 * * *", "hour field '24'")

    def test_day_of_month_out_of_range(self):
        self.assertRejected("0 0 32 * *", "day of month field '32'")

    def test_month_out_of_range(self):
        self.assertRejected("0 0 1 13 *", "month field '13'")

    def test_day_of_week_out_of_range(self):
        self.assertRejected("0 0 * * 8", "day of week field '8'")

    def test_never_fires(self):
        self.assertRejected("* * 31 2 *", "never fires")

    def test_empty(self):
        self.assertRejected("   ", "is empty")

    def test_garbage(self):
        self.assertRejected("every day at noon", "has 4 fields")

    def test_huge(self):
        self.assertRejected("*" * 10240, "longer than 200")

    def test_unicode_digits(self):
        self.assertRejected("\u0663 * * * *", "ASCII")

    def test_step_zero(self):
        self.assertRejected("*/0 * * * *", "minute field '*/0'")

    def test_not_text(self):
        self.assertRejected(5, "must be text")

    def test_unknown_timezone(self):
        with self.assertRaises(ScheduleError) as caught:
            validate_timezone("Mars/Olympus")
        self.assertIn(
            "'Mars/Olympus' is not a known IANA time zone", str(caught.exception)
        )

    def test_describe(self):
        self.assertEqual(describe("0 3 * * 0"), "At 03:00, only on Sunday")


class TestSlots(unittest.TestCase):
    def test_next_after_is_strictly_after(self):
        schedule = Schedule("*/15 * * * *")
        self.assertEqual(
            schedule.next_after(utc(2026, 1, 1, 12, 0)), utc(2026, 1, 1, 12, 15)
        )
        self.assertEqual(
            schedule.next_after(utc(2026, 1, 1, 12, 0, 1)), utc(2026, 1, 1, 12, 15)
        )

    def test_evaluated_in_job_timezone(self):
        schedule = Schedule("0 3 * * *", "Europe/Berlin")
        self.assertEqual(schedule.next_after(utc(2026, 1, 1)), utc(2026, 1, 1, 2, 0))
        self.assertEqual(schedule.next_after(utc(2026, 7, 1)), utc(2026, 7, 1, 1, 0))

    def test_slots_window(self):
        schedule = Schedule("0 * * * *")
        slots = list(schedule.slots(utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 3, 0)))
        self.assertEqual(
            slots, [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), utc(2026, 1, 1, 3)]
        )

    def test_returns_aware_utc(self):
        slot = Schedule("0 3 * * *", "Asia/Tokyo").next_after(utc(2026, 1, 1))
        self.assertEqual(slot.utcoffset(), timedelta(0))


class TestDaylightSaving(unittest.TestCase):
    """Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00."""

    def test_fixed_time_in_spring_gap_runs_once_at_gap_end(self):
        schedule = Schedule("30 2 * * *", "Europe/Berlin")
        slots = list(schedule.slots(utc(2026, 3, 28), utc(2026, 3, 31)))
        self.assertEqual(
            slots,
            [
                local(BERLIN, 2026, 3, 28, 2, 30),
                local(BERLIN, 2026, 3, 29, 3, 0),
                local(BERLIN, 2026, 3, 30, 2, 30),
            ],
        )

    def test_fixed_time_in_repeated_hour_runs_once(self):
        schedule = Schedule("30 2 * * *", "Europe/Berlin")
        slots = list(schedule.slots(utc(2026, 10, 24), utc(2026, 10, 27)))
        self.assertEqual(
            slots,
            [
                local(BERLIN, 2026, 10, 24, 2, 30),
                local(BERLIN, 2026, 10, 25, 2, 30, fold=0),
                local(BERLIN, 2026, 10, 26, 2, 30),
            ],
        )

    def test_daily_job_outside_changes_unaffected(self):
        schedule = Schedule("0 12 * * *", "Europe/Berlin")
        slots = list(schedule.slots(utc(2026, 3, 28), utc(2026, 3, 30)))
        self.assertEqual(len(slots), 2)
        self.assertEqual(slots[1] - slots[0], timedelta(hours=23))

    def test_step_keeps_cadence_through_repeated_hour(self):
        schedule = Schedule("*/30 * * * *", "Europe/Berlin")
        start = local(BERLIN, 2026, 10, 25, 1, 45)
        end = local(BERLIN, 2026, 10, 25, 3, 15)
        slots = list(schedule.slots(start, end))
        # 02:00 and 02:30 happen twice in real time.
        self.assertEqual(len(slots), 5)
        gaps = {b - a for a, b in itertools.pairwise(slots)}
        self.assertEqual(gaps, {timedelta(minutes=30)})

    def test_hourly_keeps_cadence_through_repeated_hour(self):
        schedule = Schedule("0 * * * *", "Europe/Berlin")
        slots = list(schedule.slots(utc(2026, 10, 24, 22), utc(2026, 10, 25, 4)))
        self.assertEqual(len(slots), 6)
        self.assertEqual(
            {b - a for a, b in itertools.pairwise(slots)}, {timedelta(hours=1)}
        )

    def test_step_skips_wall_times_in_gap(self):
        schedule = Schedule("*/30 * * * *", "Europe/Berlin")
        slots = list(
            schedule.slots(
                local(BERLIN, 2026, 3, 29, 1, 15), local(BERLIN, 2026, 3, 29, 3, 45)
            )
        )
        walls = [slot.astimezone(BERLIN).strftime("%H:%M") for slot in slots]
        self.assertEqual(walls, ["01:30", "03:00", "03:30"])

    def test_southern_hemisphere(self):
        # Australia/Sydney: 2026-04-05 03:00 -> 02:00; 2026-10-04 02:00 -> 03:00
        schedule = Schedule("30 2 * * *", "Australia/Sydney")
        back = list(schedule.slots(utc(2026, 4, 4, 12), utc(2026, 4, 5, 12)))
        forward = list(schedule.slots(utc(2026, 10, 3, 12), utc(2026, 10, 4, 12)))
        self.assertEqual(len(back), 1)
        self.assertEqual(len(forward), 1)
        self.assertEqual(forward[0].astimezone(ZoneInfo("Australia/Sydney")).hour, 3)


class TestPlan(unittest.TestCase):
    def test_nothing_due(self):
        plan = Schedule("0 * * * *").plan(
            utc(2026, 1, 1, 12, 0), utc(2026, 1, 1, 12, 59)
        )
        self.assertEqual(plan.run, ())
        self.assertIsNone(plan.last)

    def test_due_slot(self):
        plan = Schedule("0 * * * *").plan(
            utc(2026, 1, 1, 12, 0), utc(2026, 1, 1, 13, 0, 20)
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 13),))
        self.assertEqual(plan.missed, ())
        self.assertEqual(plan.last, utc(2026, 1, 1, 13))

    def test_late_but_within_grace_still_runs(self):
        plan = Schedule("0 * * * *").plan(utc(2026, 1, 1, 12), utc(2026, 1, 1, 13, 5))
        self.assertEqual(plan.run, (utc(2026, 1, 1, 13),))

    def test_skip_missed(self):
        plan = Schedule("0 * * * *").plan(utc(2026, 1, 1, 0), utc(2026, 1, 1, 5, 30))
        self.assertEqual(plan.run, ())
        self.assertEqual(plan.missed[0], utc(2026, 1, 1, 1))
        self.assertEqual(plan.last, utc(2026, 1, 1, 5, 30))

    def test_once_runs_one_for_all_missed(self):
        plan = Schedule("0 * * * *").plan(
            utc(2026, 1, 1, 0), utc(2026, 1, 1, 5, 30), "once"
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 1),))

    def test_missed_then_on_time(self):
        plan = Schedule("*/10 * * * *").plan(
            utc(2026, 1, 1, 0), utc(2026, 1, 1, 1, 0, 30)
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 1, 0),))
        self.assertEqual(plan.missed[0], utc(2026, 1, 1, 0, 10))

    def test_every_on_time_slot_since_last_runs(self):
        # A publisher retry may land in the next slot: both slots run, once.
        plan = Schedule("* * * * *").plan(
            utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 2, 1)
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 2)))
        again = Schedule("* * * * *").plan(plan.last, utc(2026, 1, 1, 0, 2, 30))
        self.assertEqual(again.run, ())
