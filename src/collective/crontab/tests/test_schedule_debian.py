"""schedule.py against cronsim, the parser healthchecks.io built to do what
Debian's cron does (DST included): hypothesis-generated expressions and start
times in 2024-2030 across zones with every kind of DST change. Both must
accept and reject the same expressions and give the same next run times,
except where cronsim itself is wrong. Its faults are named one by one below;
each is recognised by its own signature and the rest of the answer is still
compared, so a fault of ours cannot hide behind one of cronsim's.
"""

from collective.crontab.schedule import offset_change
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import ScheduleError
from collective.crontab.schedule import UTC
from cronsim import CronSim
from cronsim import CronSimError
from datetime import datetime
from datetime import timedelta
from functools import lru_cache
from hypothesis import example
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from itertools import islice
from itertools import pairwise
from zoneinfo import ZoneInfo

import signal
import unittest


ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",  # 30-minute DST shift, +10:30
    "Asia/Kolkata",  # +05:30
    "Pacific/Chatham",  # +12:45 / +13:45
    "Antarctica/Troll",  # a 2-hour shift
    "America/Havana",  # changes at midnight
    "Africa/Casablanca",  # DST suspended for Ramadan
)
#: Runs compared per example.
RUNS = 8
#: cronsim gets this long for them (it loops forever on some inputs).
CRONSIM_SECONDS = 1.0
DIFFERENTIAL = settings(
    max_examples=1500,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MONTHS = [
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
]
WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@lru_cache
def changes(zone_name):
    """The instants of the zone's offset changes in 2024-2030."""
    zone, found = ZoneInfo(zone_name), []
    moment, step = datetime(2024, 1, 1, tzinfo=UTC), timedelta(hours=6)
    while moment.year < 2031:
        low, high = moment, moment + step
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            found.append(offset_change(zone, low, high))
        moment += step
    return tuple(found)


def term(low, high, names=()):
    number = st.integers(low, high)
    name = st.sampled_from(names).map(
        lambda text: text.lower() if len(text) % 2 else text
    )
    value = st.one_of(number.map(str), name) if names else number.map(str)
    pair = st.tuples(number, number).map(sorted)
    return st.one_of(
        st.just("*"),
        value,
        st.integers(1, max(2, (high - low) // 2)).map(lambda step: f"*/{step}"),
        pair.map(lambda ends: "{}-{}".format(*ends)),
        st.tuples(pair, st.integers(1, 5)).map(
            lambda item: "{}-{}/{}".format(*item[0], item[1])
        ),
        st.tuples(value, st.integers(1, 10)).map(lambda item: "{}/{}".format(*item)),
    )


def field(low, high, names=(), extra=()):
    one = st.one_of(term(low, high, names), *extra)
    return st.one_of(
        one,
        st.lists(one, min_size=2, max_size=4).map(",".join),
    )


_WEEKDAY = st.integers(0, 7).map(str)
#: Strategies are built once: building them per example costs more than
#: the example.
EXPRESSIONS = st.tuples(
    field(0, 59),
    field(0, 23),
    st.one_of(st.just("*"), field(1, 31, extra=[st.sampled_from(("L", "LW", "L/2"))])),
    st.one_of(st.just("*"), field(1, 12, MONTHS)),
    st.one_of(
        st.just("*"),
        field(
            0,
            7,
            WEEKDAYS,
            extra=[
                _WEEKDAY.map(lambda day: f"{day}L"),
                st.tuples(_WEEKDAY, st.integers(1, 5)).map(
                    lambda item: "{}#{}".format(*item)
                ),
            ],
        ),
    ),
).map(" ".join)
ANY_TIME = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


def near_changes(zone_name):
    """Times up to a day either side of the zone's DST changes."""
    return st.tuples(
        st.sampled_from(changes(zone_name)),
        st.integers(-24 * 60, 24 * 60),
        st.sampled_from((0, 0, 30, 59)),
    ).map(lambda item: item[0] + timedelta(minutes=item[1], seconds=item[2]))


STARTS = {
    zone_name: st.one_of(ANY_TIME, near_changes(zone_name))
    if changes(zone_name)
    else ANY_TIME
    for zone_name in ZONES
}
CASES = st.sampled_from(ZONES).flatmap(
    lambda zone_name: st.tuples(EXPRESSIONS, st.just(zone_name), STARTS[zone_name])
)


class CronsimTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CronsimTimeout


def ours(expression, zone_name, start):
    """Our next RUNS slots, or the ScheduleError."""
    try:
        schedule = Schedule(expression, zone_name)
        found, after = [], start
        for _index in range(RUNS):
            after = schedule.next_after(after)
            found.append(after)
    except ScheduleError as error:
        return error
    return found


def theirs(expression, zone_name, start):
    """cronsim's next RUNS times (aware, in the zone), its error, or
    CronsimTimeout after CRONSIM_SECONDS."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CRONSIM_SECONDS)
    try:
        iterator = CronSim(expression, start.astimezone(ZoneInfo(zone_name)))
        return [next(iterator) for _index in range(RUNS)]
    except (CronSimError, StopIteration) as error:
        return error
    except CronsimTimeout as error:
        return error
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def in_utc(times):
    return [moment.astimezone(UTC) for moment in times]


def is_prefix(short, long):
    return list(short) == list(long)[: len(short)]


def imaginary(moment):
    return moment != moment.astimezone(UTC).astimezone(moment.tzinfo)


# -- cronsim's known faults: (mismatch) -> True when this fault explains it --


def cronsim_loops(expression, zone_name, start, mine, raw):
    """cronsim loops forever in Pacific/Chatham (+12:45/+13:45): through the
    repeated hour it returns the same times again and again (``*/15 3 * * *``
    from 2026-04-04T09:00Z), or never returns."""
    if zone_name != "Pacific/Chatham":
        return False
    if isinstance(raw, CronsimTimeout):
        return True
    times = in_utc(raw)
    for index, (one, other) in enumerate(pairwise(times)):
        if other <= one:
            return is_prefix(times[: index + 1], mine)
    return False


def cronsim_skips_half_hours(expression, zone_name, start, mine, raw):
    """In zones with :30/:45 offsets cronsim skips runs within a day after
    a DST change (it steps whole hours from a time on the old offset)."""
    if zone_name not in ("Australia/Lord_Howe", "Pacific/Chatham"):
        return False
    times = in_utc(raw)
    if times != sorted(set(times)) or times[0] <= start:
        return False
    schedule = Schedule(expression, zone_name)
    expected = list(islice(schedule.slots(start, times[-1]), 10000))
    missing = set(expected) - set(times)
    zone = ZoneInfo(zone_name)
    return (
        set(times) < set(expected)
        and (is_prefix(mine, expected) or is_prefix(expected, mine))
        and all(
            cron_time(expression, zone, slot)
            and (slot - timedelta(days=1)).astimezone(zone).utcoffset()
            != slot.astimezone(zone).utcoffset()
            for slot in missing
        )
    )


def cron_time(expression, zone, slot):
    """Whether the wall time of ``slot`` matches ``expression`` (cronsim on
    a naive wall clock: matching only, no DST)."""
    wall = slot.astimezone(zone).replace(tzinfo=None)
    return next(CronSim(expression, wall - timedelta(minutes=1))) == wall


def cronsim_returns_nonexistent_times(expression, zone_name, start, mine, raw):
    """America/Havana changes at midnight: cronsim returns 00:00 of the
    spring-forward day, a wall time that does not exist."""
    if zone_name != "America/Havana" or not any(map(imaginary, raw)):
        return False
    ghosts = {moment.astimezone(UTC) for moment in raw if imaginary(moment)}
    real = [moment.astimezone(UTC) for moment in raw if not imaginary(moment)]
    return is_prefix(real, [slot for slot in mine if slot not in ghosts])


def cronsim_ignores_fold(expression, zone_name, start, mine, raw):
    """From a start in the second pass of a repeated hour (fold=1) cronsim
    starts over from the first pass: it returns times before the start."""
    local = start.astimezone(ZoneInfo(zone_name))
    if local.replace(fold=0).utcoffset() == local.replace(fold=1).utcoffset():
        return False
    times = in_utc(raw)
    if local.fold != 1 or times[0] > start:
        return False
    return is_prefix([moment for moment in times if moment > start], mine)


CRONSIM_FAULTS = (
    cronsim_loops,
    cronsim_skips_half_hours,
    cronsim_returns_nonexistent_times,
    cronsim_ignores_fold,
)


class TestAgainstCronsim(unittest.TestCase):
    def check(self, expression, zone_name, start):
        mine = ours(expression, zone_name, start)
        raw = theirs(expression, zone_name, start)
        case = f"{expression!r} in {zone_name} after {start.isoformat()}"
        if isinstance(mine, ScheduleError) or isinstance(
            raw, (CronSimError, StopIteration)
        ):
            # Rejected by both, or no run in 50 years for both.
            self.assertIsInstance(mine, ScheduleError, f"{case}: cronsim: {raw!r}")
            self.assertIsInstance(raw, (CronSimError, StopIteration), f"{case}: {mine}")
            return None
        if not isinstance(raw, CronsimTimeout) and in_utc(raw) == mine:
            return None
        for fault in CRONSIM_FAULTS:
            if fault(expression, zone_name, start, mine, raw):
                return fault.__name__
        self.fail(f"{case}:\n ours:    {mine}\n cronsim: {raw!r}")

    @DIFFERENTIAL
    @given(CASES)
    @example(("*/15 3 * * *", "Pacific/Chatham", datetime(2026, 4, 4, 9, tzinfo=UTC)))
    @example((
        "* 13-23/1 * * 0",
        "Australia/Lord_Howe",
        datetime(2028, 4, 1, 14, 8, tzinfo=UTC),
    ))
    @example(("* 0 * * 0", "America/Havana", datetime(2024, 3, 9, 12, tzinfo=UTC)))
    @example(("0,30 0-3 * * *", "America/Havana", datetime(2024, 11, 3, 5, tzinfo=UTC)))
    @example(("0,30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC)))
    @example(("0,30 2 * * *", "Europe/Berlin", datetime(2026, 10, 24, 12, tzinfo=UTC)))
    @example(("0 0 */2 * 1", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("0 0 13 * 5#2", "Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("5-1 * * * *", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("0 0 ? * *", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("0 0 15W * *", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("0 0 * * L5", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    @example(("0 0 1 DEC-JAN *", "UTC", datetime(2026, 1, 1, tzinfo=UTC)))
    def test_same_runs_as_cronsim(self, case):
        self.check(*case)

    def test_every_fault_is_recognised_by_its_own_signature(self):
        known = {
            (
                "*/15 3 * * *",
                "Pacific/Chatham",
                datetime(2026, 4, 4, 9, tzinfo=UTC),
            ): "cronsim_loops",
            (
                "* 13-23/1 * * 0",
                "Australia/Lord_Howe",
                datetime(2028, 4, 1, 14, 8, tzinfo=UTC),
            ): "cronsim_skips_half_hours",
            (
                "* 0 * * 0",
                "America/Havana",
                datetime(2024, 3, 9, 12, tzinfo=UTC),
            ): "cronsim_returns_nonexistent_times",
            (
                "0,30 0-3 * * *",
                "America/Havana",
                datetime(2024, 11, 3, 5, tzinfo=UTC),
            ): "cronsim_ignores_fold",
        }
        for case, fault in known.items():
            with self.subTest(case=case):
                self.assertEqual(self.check(*case), fault)

    def test_a_fault_of_ours_is_not_taken_for_one_of_cronsims(self):
        expression, zone_name, start = (
            "* 13-23/1 * * 0",
            "Australia/Lord_Howe",
            datetime(2028, 4, 1, 14, 8, tzinfo=UTC),
        )
        raw = theirs(expression, zone_name, start)
        wrong = ours(expression, zone_name, start)[1:]  # one run lost
        for fault in CRONSIM_FAULTS:
            self.assertFalse(
                fault(expression, zone_name, start, wrong, raw), fault.__name__
            )
