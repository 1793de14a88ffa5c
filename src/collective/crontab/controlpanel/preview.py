"""What a schedule will do: its next runs and its DST surprises.

Pure Python, like collective.crontab.schedule.
"""

from collective.crontab.schedule import offset_change
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import UTC
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta


#: How far ahead the form looks for DST gaps and repeated hours.
HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Transition:
    """A change of a zone's UTC offset: clocks jump forward (a gap of wall
    times that do not exist) or back (an hour of wall times that repeat)."""

    at: datetime  # the instant of the change (UTC)
    start: datetime  # first affected wall time (naive)
    end: datetime  # first unaffected wall time (naive)
    gap: bool


@dataclass(frozen=True)
class DSTWarning:
    transition: Transition
    wall_time: datetime  # the first run time of the schedule inside it
    fixed_time: bool  # see collective.crontab.schedule: once a day or cadence


def next_runs(schedule, now, count=5):
    """The next ``count`` slots of ``schedule`` (a Schedule) after ``now``."""
    runs = []
    after = now
    for _index in range(count):
        after = schedule.next_after(after)
        runs.append(after)
    return runs


def transitions(zone, now, horizon=HORIZON):
    """The offset changes of ``zone`` (a tzinfo) in (now, now + horizon]."""
    found = []
    day = timedelta(days=1)
    low = now.astimezone(UTC)
    end = low + horizon
    while low < end:
        high = low + day
        before, after = (
            low.astimezone(zone).utcoffset(),
            high.astimezone(zone).utcoffset(),
        )
        if before != after:
            at = offset_change(zone, low, high)
            wall_before = (at + before).replace(tzinfo=None)
            wall_after = (at + after).replace(tzinfo=None)
            gap = after > before
            found.append(
                Transition(
                    at=at,
                    start=min(wall_before, wall_after),
                    end=max(wall_before, wall_after),
                    gap=gap,
                )
            )
        low = high
    return found


def dst_warnings(schedule, now, horizon=HORIZON):
    """Transitions in the next ``horizon`` during which ``schedule`` has a
    run time: wall times that do not exist or that happen twice."""
    warnings = []
    for transition in transitions(schedule.tz, now, horizon):
        first = schedule.next_wall(transition.start - timedelta(seconds=1))
        if first < transition.end:
            warnings.append(DSTWarning(transition, first, schedule.fixed_time))
    return warnings


def preview(expression, zone, now):
    """(next 5 runs, DST warnings) of ``expression`` in the zone name ``zone``."""
    schedule = Schedule(expression, zone)
    return next_runs(schedule, now), dst_warnings(schedule, now)
