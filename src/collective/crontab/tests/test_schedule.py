"""The scheduling maths, on its own (no Zope)."""

from collective.crontab.exceptions import ScheduleError
from collective.crontab.schedule import MAX_COUNT
from collective.crontab.schedule import normalize
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import schedule_for
from collective.crontab.schedule import Slots
from collective.crontab.schedule import UTC
from collective.crontab.schedule import validate_timezone
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import itertools
import time
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
        self.assertEqual(
            plan.stands_for, Slots(utc(2026, 1, 1, 13), utc(2026, 1, 1, 13))
        )
        self.assertIsNone(plan.missed)
        self.assertIsNone(plan.skipped)
        self.assertEqual(plan.last, utc(2026, 1, 1, 13))

    def test_late_but_within_grace_still_runs(self):
        plan = Schedule("0 * * * *").plan(utc(2026, 1, 1, 12), utc(2026, 1, 1, 13, 5))
        self.assertEqual(plan.run, (utc(2026, 1, 1, 13),))

    def test_skip_missed_range_ends_at_the_last_missed_slot(self):
        # A3: the range is 01:00-05:00 (5 slots), not up to now - grace.
        plan = Schedule("0 * * * *").plan(utc(2026, 1, 1, 0), utc(2026, 1, 1, 5, 30))
        self.assertEqual(plan.run, ())
        self.assertIsNone(plan.stands_for)
        self.assertEqual(
            plan.missed, Slots(utc(2026, 1, 1, 1), utc(2026, 1, 1, 5), count=5)
        )
        self.assertEqual(plan.last, utc(2026, 1, 1, 5, 30))

    def test_daily_missed_range_is_the_one_slot(self):
        # A3: "0 3 * * *" late at 09:00 missed 03:00 only, not 03:00-08:55.
        plan = Schedule("0 3 * * *").plan(utc(2026, 1, 1, 0), utc(2026, 1, 1, 9))
        self.assertEqual(plan.missed, Slots(utc(2026, 1, 1, 3), utc(2026, 1, 1, 3)))

    def test_once_runs_the_latest_missed_slot_never_also_missed(self):
        # A2: the run is for 05:00; the missed range is 01:00-04:00 only.
        plan = Schedule("0 * * * *").plan(
            utc(2026, 1, 1, 0), utc(2026, 1, 1, 5, 30), "once"
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 5),))
        self.assertEqual(
            plan.missed, Slots(utc(2026, 1, 1, 1), utc(2026, 1, 1, 4), count=4)
        )
        self.assertEqual(
            plan.stands_for, Slots(utc(2026, 1, 1, 1), utc(2026, 1, 1, 5), count=5)
        )
        self.assertNotIn(plan.run[0], (plan.missed.first, plan.missed.last))

    def test_once_with_one_missed_slot_reports_none_missed(self):
        plan = Schedule("0 3 * * *").plan(
            utc(2026, 1, 1, 0), utc(2026, 1, 1, 9), "once"
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 3),))
        self.assertIsNone(plan.missed)

    def test_missed_then_on_time(self):
        plan = Schedule("*/10 * * * *").plan(
            utc(2026, 1, 1, 0), utc(2026, 1, 1, 1, 0, 30)
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 1, 0),))
        self.assertEqual(
            plan.missed, Slots(utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 0, 50), 5)
        )

    def test_late_tick_runs_once_for_the_latest_on_time_slot(self):
        # The 10:00-10:04 case: one run for 10:04, 10:00-10:03 coalesced.
        plan = Schedule("* * * * *").plan(
            utc(2026, 1, 1, 9, 59), utc(2026, 1, 1, 10, 4, 10)
        )
        self.assertEqual(plan.run, (utc(2026, 1, 1, 10, 4),))
        self.assertEqual(
            plan.skipped, Slots(utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 3), 4)
        )
        self.assertEqual(
            plan.stands_for, Slots(utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 4), 5)
        )
        self.assertIsNone(plan.missed)
        again = Schedule("* * * * *").plan(plan.last, utc(2026, 1, 1, 10, 4, 30))
        self.assertEqual(again.run, ())

    def test_missed_count_of_a_long_outage_is_bounded(self):
        plan = Schedule("* * * * *").plan(utc(2026, 1, 1), utc(2026, 3, 1))
        self.assertEqual(plan.missed.count, MAX_COUNT)
        self.assertEqual(plan.missed.last, utc(2026, 2, 28, 23, 54))


class TestDebianMeaning(unittest.TestCase):
    """Cron as Debian's (Vixie) cron and cronsim read it."""

    def runs(self, expression, start, count=4, zone="UTC"):
        schedule, found, after = Schedule(expression, zone), [], start
        for _index in range(count):
            after = schedule.next_after(after)
            found.append(after)
        return found

    def days(self, expression, count=4):
        runs = self.runs(expression, utc(2025, 12, 31, 23, 59), count)
        return [run.strftime("%m-%d") for run in runs]

    def test_restricted_day_fields_starting_with_star_mean_and(self):
        # Mondays that are odd days of the month.
        self.assertEqual(self.days("0 0 */2 * 1"), ["01-05", "01-19", "02-09", "02-23"])

    def test_day_of_month_star_step_with_day_of_week_step(self):
        # 1-7 AND Sundays (*/7 = 0,7): the first Sunday of the month.
        self.assertEqual(self.days("1 1 1-7 * */7", 2), ["01-04", "02-01"])

    def test_day_of_week_starting_with_star_means_and(self):
        # The 1st, when it is a Sunday, Tuesday, Thursday or Saturday.
        self.assertEqual(
            self.days("0 0 1 * */2", 4), ["01-01", "02-01", "03-01", "08-01"]
        )

    def test_restricted_day_fields_mean_or(self):
        self.assertEqual(self.days("0 0 1,15 * 5", 3), ["01-01", "01-02", "01-09"])

    def test_nth_weekday_with_day_of_month_is_an_or(self):
        # The second Friday (01-09) or the 13th.
        self.assertEqual(self.days("0 0 13 * 5#2", 3), ["01-09", "01-13", "02-13"])

    def test_nth_weekday_in_a_list(self):
        # Mondays, Tuesdays and the first Wednesday.
        self.assertEqual(
            self.days("0 0 * * 1,2,3#1", 4), ["01-05", "01-06", "01-07", "01-12"]
        )

    def test_day_of_week_step_from_seven_is_sunday_only(self):
        self.assertEqual(self.days("0 0 * * 7/3", 2), ["01-04", "01-11"])

    def test_day_of_week_step_runs_through_seven(self):
        # 1/3 = 1, 4, 7: Monday, Thursday and Sunday.
        self.assertEqual(self.days("0 0 * * 1/3", 3), ["01-01", "01-04", "01-05"])

    def test_seven_is_sunday(self):
        self.assertEqual(self.days("0 0 * * 7", 1), ["01-04"])

    def test_last_day_of_month(self):
        self.assertEqual(self.days("0 0 L * *", 3), ["01-31", "02-28", "03-31"])

    def test_last_day_with_step_is_last_day(self):
        self.assertEqual(self.days("0 0 L/2 * *", 2), ["01-31", "02-28"])

    def test_last_weekday_of_month(self):
        # 2026-01-31 is a Saturday, 2026-05-31 a Sunday.
        self.assertEqual(self.days("0 0 LW 1,5,6 *", 3), ["01-30", "05-29", "06-30"])

    def test_last_friday(self):
        self.assertEqual(self.days("0 0 * * 5L", 3), ["01-30", "02-27", "03-27"])

    def test_names_any_case(self):
        self.assertEqual(self.days("0 0 * jan-feb mon#1", 2), ["01-05", "02-02"])

    def assertRejected(self, expression, *words):
        with self.assertRaises(ScheduleError) as caught:
            Schedule(expression)
        for word in words:
            self.assertIn(word, str(caught.exception))

    def test_wrap_around_ranges_are_rejected(self):
        for expression, field in (
            ("5-1 * * * *", "minute field '5-1'"),
            ("59-1 * * * *", "minute field '59-1'"),
            ("0 22-2 * * *", "hour field '22-2'"),
            ("0 0 1 DEC-JAN *", "month field 'DEC-JAN'"),
            ("0 0 * * 5-1", "day of week field '5-1'"),
        ):
            with self.subTest(expression):
                self.assertRejected(expression, field, "wraps around", "low to high")

    def test_question_mark_rejected(self):
        self.assertRejected("0 0 ? * 1", "day of month field '?'", "'?'")

    def test_nearest_weekday_rejected(self):
        self.assertRejected("0 0 15W * *", "day of month field '15W'", "'W'")

    def test_last_before_the_day_rejected(self):
        self.assertRejected("0 0 * * L5", "day of week field 'L5'", "'5L'")

    def test_nth_out_of_range_rejected(self):
        self.assertRejected("0 0 * * 5#6", "day of week field '5#6'")

    def test_impossible_day_with_or_is_accepted(self):
        # Feb 30 or any Monday in February: the Mondays.
        self.assertEqual(self.days("0 0 30 2 1", 1), ["02-02"])


class TestBoundedSearch(unittest.TestCase):
    def test_schedule_whose_every_run_is_in_a_gap_raises_quickly(self):
        # F4: 02:xx on the second Sunday of March is always New York's gap.
        schedule = Schedule("* 2 * 3 0#2", "America/New_York")
        started = time.perf_counter()
        with self.assertRaises(ScheduleError) as caught:
            schedule.next_after(utc(2026, 1, 1))
        self.assertLess(time.perf_counter() - started, 1)
        self.assertIn("America/New_York", str(caught.exception))
        self.assertIn("daylight-saving gaps", str(caught.exception))

    def test_fixed_time_version_runs_at_the_end_of_the_gap(self):
        slot = Schedule("0 2 * 3 0#2", "America/New_York").next_after(utc(2026, 1, 1))
        self.assertEqual(slot, utc(2026, 3, 8, 7))

    def test_cached_schedules_are_computable(self):
        with self.assertRaises(ScheduleError):
            schedule_for("* 2 * 3 0#2", "America/New_York")
        self.assertEqual(schedule_for("* 2 * 3 0#2", "UTC").expression, "* 2 * 3 0#2")

    def test_rare_but_real_runs_are_found(self):
        # February 29 on a Sunday: 2032, then 2060.
        schedule = Schedule("0 0 29 2 */7")
        self.assertEqual(schedule.next_after(utc(2026, 1, 1)), utc(2032, 2, 29))
        self.assertEqual(schedule.next_after(utc(2032, 3, 1)), utc(2060, 2, 29))
