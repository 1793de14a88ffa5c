"""Property-based tests of schedule.py (hypothesis): random valid cron
expressions, time zones and windows, many of them across DST changes.

The wall-clock times a cron expression matches come from cronsim on a
naive clock (Debian's meaning, no DST handling). Where a DST change skips
(spring gap) or repeats (fall-back hour) a wall time, our rule applies (see
schedule.py): a fixed-time job (neither minute nor hour starts with ``*``)
runs once at the end of the gap and only the first time through the repeated
hour; other jobs skip gap times and run twice through the repeated hour,
keeping their real cadence. Everywhere else the slots must be exactly the
matching wall times.
"""

from collective.crontab.exceptions import ScheduleError
from collective.crontab.schedule import GRACE
from collective.crontab.schedule import MAX_COUNT
from collective.crontab.schedule import normalize
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import UTC
from cronsim import CronSim
from datetime import datetime
from datetime import timedelta
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from itertools import islice
from zoneinfo import ZoneInfo

import unittest


ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST in the tz database
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45
)
#: DST changes of 2026 in some of ZONES (UTC): windows often straddle them.
CHANGES = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 16, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
)
MAX_SLOTS = 200
PROPERTIES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def field(low, high):
    number = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        number.map(str),
        st.integers(2, max(2, (high - low) // 2)).map(lambda step: f"*/{step}"),
        st.tuples(number, number).map(lambda pair: "{}-{}".format(*sorted(pair))),
        st.lists(number, min_size=2, max_size=3, unique=True).map(
            lambda items: ",".join(map(str, sorted(items)))
        ),
    )


@st.composite
def expressions(draw):
    expression = " ".join((
        draw(field(0, 59)),
        draw(field(0, 23)),
        draw(st.one_of(st.just("*"), field(1, 28))),
        draw(st.one_of(st.just("*"), field(1, 12))),
        draw(st.one_of(st.just("*"), field(0, 6))),
    ))
    try:
        return normalize(expression)
    except ScheduleError:
        assume(False)


instants = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    st.tuples(st.sampled_from(CHANGES), st.integers(-12 * 60, 12 * 60)).map(
        lambda pair: pair[0] + timedelta(minutes=pair[1])
    ),
)
lengths = st.integers(1, 3 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


def slots(schedule, after, until):
    """Our slots in (after, until], at most MAX_SLOTS; and the end of the
    window they cover."""
    found = list(islice(schedule.slots(after, until), MAX_SLOTS))
    return found, (found[-1] if len(found) == MAX_SLOTS else until)


def unambiguous(zone, wall):
    """The one instant of a naive wall time, or None if DST skips or
    repeats it."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        return None
    return first.astimezone(UTC)


def matches(expression, wall):
    """Whether the naive wall time ``wall`` is a cron time of ``expression``."""
    return next(CronSim(expression, wall - timedelta(minutes=1))) == wall


def regular(expression, zone, slot):
    """Whether ``slot`` is a cron time on an unambiguous wall clock."""
    wall = slot.astimezone(zone).replace(tzinfo=None)
    return unambiguous(zone, wall) is not None and matches(expression, wall)


#: Windows across DST changes (Europe/Berlin 2026: 02:00-03:00 skipped on
#: March 29, repeated on October 25; Lord Howe: a 30-minute gap), always tried.
DST_WINDOWS = (
    (
        "30 2 * * *",
        "Europe/Berlin",
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        timedelta(days=1),
    ),
    (
        "30 2 * * *",
        "Europe/Berlin",
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        timedelta(days=1),
    ),
    (
        "*/20 2 * * *",
        "Europe/Berlin",
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        timedelta(days=1),
    ),
    (
        "*/20 1-3 * * *",
        "Europe/Berlin",
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        timedelta(days=1),
    ),
    (
        "0 2 * * *",
        "Australia/Lord_Howe",
        datetime(2026, 10, 3, 0, tzinfo=UTC),
        timedelta(days=1),
    ),
)


def DST_EXAMPLES(test):
    for values in DST_WINDOWS:
        test = example(*values)(test)
    return test


def wall_slots(expression, zone, after, until):
    """The matching wall times in (after, until] that are unambiguous."""
    wall = after.astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
    end = until.astimezone(zone).replace(tzinfo=None) + timedelta(hours=3)
    found = set()
    for candidate in CronSim(expression, wall):
        if candidate > end:
            return found
        instant = unambiguous(zone, candidate)
        if instant is not None and after < instant <= until:
            found.add(instant)


class TestSlotProperties(unittest.TestCase):
    @PROPERTIES
    @given(expressions(), st.sampled_from(ZONES), instants, lengths)
    def test_strictly_increasing_never_repeated_inside_the_window(
        self, expression, zone, after, length
    ):
        found, until = slots(Schedule(expression, zone), after, after + length)
        self.assertEqual(found, sorted(set(found)))
        for slot in found:
            self.assertGreater(slot, after)
            self.assertLessEqual(slot, until)
            self.assertEqual(slot.utcoffset(), timedelta(0))

    @PROPERTIES
    @given(expressions(), st.sampled_from(ZONES), instants, lengths)
    @DST_EXAMPLES
    def test_matching_wall_times_outside_dst_changes(
        self, expression, zone_name, after, length
    ):
        zone = ZoneInfo(zone_name)
        found, until = slots(Schedule(expression, zone_name), after, after + length)
        ours = {slot for slot in found if regular(expression, zone, slot)}
        self.assertEqual(ours, wall_slots(expression, zone, after, until))

    @PROPERTIES
    @given(expressions(), st.sampled_from(ZONES), instants, lengths)
    @DST_EXAMPLES
    def test_dst_exceptions_follow_our_rule(self, expression, zone_name, after, length):
        zone = ZoneInfo(zone_name)
        schedule = Schedule(expression, zone_name)
        found, _until = slots(schedule, after, after + length)
        for slot in found:
            if regular(expression, zone, slot):
                continue
            wall = slot.astimezone(zone)
            if unambiguous(zone, wall.replace(tzinfo=None)) is None:
                # A wall time the fall-back change repeats: a fixed-time
                # job runs the first time only; others run both times.
                if schedule.fixed_time:
                    self.assertEqual(wall.fold, 0, slot)
                self.assertTrue(matches(expression, wall.replace(tzinfo=None)), slot)
            else:
                # Not a cron time: a fixed-time job moved to the end of a
                # spring-forward gap, at the instant the clock jumps.
                self.assertTrue(schedule.fixed_time, slot)
                before = (slot - timedelta(seconds=1)).astimezone(zone)
                self.assertLess(before.utcoffset(), wall.utcoffset(), slot)


def expand(schedule, slots):
    """Every slot of the range ``slots`` (a Slots or None)."""
    if slots is None:
        return []
    found = list(schedule.slots(slots.first - timedelta(microseconds=1), slots.last))
    assert len(found) == slots.count, (slots, found)
    return found


class TestPlanProperties(unittest.TestCase):
    @PROPERTIES
    @given(
        expressions(),
        st.sampled_from(ZONES),
        instants,
        st.lists(st.integers(1, int(GRACE.total_seconds())), min_size=1, max_size=40),
        st.sampled_from(("skip", "once")),
    )
    def test_ticks_within_grace_handle_every_slot_exactly_once(
        self, expression, zone, armed, gaps, catch_up
    ):
        schedule = Schedule(expression, zone)
        last, now, handled = armed, armed, []
        for gap in gaps:
            now += timedelta(seconds=gap)
            plan = schedule.plan(last, now, catch_up)
            self.assertIsNone(plan.missed)
            self.assertLessEqual(len(plan.run), 1)
            if plan.last is not None:
                self.assertLessEqual(plan.last, now)
                handled.extend(expand(schedule, plan.skipped) + list(plan.run))
                self.assertEqual(
                    expand(schedule, plan.stands_for),
                    handled[-len(expand(schedule, plan.stands_for)) :],
                )
                last = plan.last
        self.assertEqual(handled, sorted(set(handled)))
        self.assertEqual(handled, list(schedule.slots(armed, now)))

    @PROPERTIES
    @given(
        expressions(),
        st.sampled_from(ZONES),
        instants,
        lengths,
        st.sampled_from(("skip", "once")),
    )
    def test_late_tick_runs_at_most_once_and_no_slot_twice(
        self, expression, zone, last, late, catch_up
    ):
        schedule = Schedule(expression, zone)
        now = last + late
        plan = schedule.plan(last, now, catch_up)
        self.assertLessEqual(len(plan.run), 1)
        deadline = now - GRACE
        missed, skipped = expand(schedule, plan.missed), expand(schedule, plan.skipped)
        every = missed + skipped + list(plan.run)
        self.assertEqual(sorted(every), sorted(set(every)))
        if plan.last is None:
            self.assertEqual(every, [])
            return
        # With the missed range bounded, the rest is every slot to now.
        if plan.missed is None or plan.missed.count < MAX_COUNT:
            self.assertEqual(sorted(every), list(schedule.slots(last, now)))
        for slot in missed:
            self.assertLess(slot, deadline)
        for slot in skipped:
            self.assertGreaterEqual(slot, deadline)
        if plan.run and plan.run[0] < deadline:
            # A catch-up run: 'once', for the latest missed slot, none on time.
            self.assertEqual(catch_up, "once")
            self.assertEqual(skipped, [])
            self.assertEqual(plan.run[0], schedule._last_before(now))
        elif plan.run:
            self.assertEqual(
                plan.run[0], schedule._last_before(now + timedelta(microseconds=1))
            )
