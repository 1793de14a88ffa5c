"""Cron expressions: validation, words, and slots in a time zone.

Pure Python (croniter, zoneinfo); no Zope imports. Every datetime given to or
returned from this module is timezone-aware; slots are returned in UTC.

Daylight saving time: cron is evaluated on the job's wall clock. A job whose
minute and hour fields are fixed numbers (``30 2 * * *``) runs once a day on
DST change days: a time in the spring-forward gap runs at the first instant
after the gap, a repeated time on fall-back day runs only the first time.
A job with a wildcard, range or step in minute or hour keeps its real cadence:
it skips the wall times that do not exist and runs twice through the repeated
hour.
"""

from collective.crontab.exceptions import ScheduleError
from copy import copy
from croniter import croniter
from croniter import CroniterBadDateError
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from functools import lru_cache
from zoneinfo import available_timezones
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import re


UTC = UTC
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_LENGTH = 200
#: A slot reached later than this after its time is missed (catch-up policy).
GRACE = timedelta(minutes=5)
#: Longest shift of a wall clock at a DST change anywhere (Troll: 2 h).
_MAX_SHIFT = timedelta(hours=3)
_TICK = timedelta(microseconds=1)
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-#L?]+$")
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")


def normalize(expression):  # noqa: C901
    """Return the five-field form of ``expression`` or raise ScheduleError."""
    if not isinstance(expression, str):
        raise ScheduleError(f"must be text, not {type(expression).__name__}")
    text = expression.strip()
    if not text:
        raise ScheduleError("is empty")
    if len(text) > MAX_LENGTH:
        raise ScheduleError(f"is longer than {MAX_LENGTH} characters")
    if not text.isascii():
        raise ScheduleError(f"'{text}' may only contain ASCII characters")
    if text.startswith("@"):
        try:
            return ALIASES[text.lower()]
        except KeyError:
            raise ScheduleError(
                "'{}' is not supported (use one of {})".format(
                    text, ", ".join(sorted(ALIASES))
                )
            ) from None
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"'{text}' has {len(fields)} fields; cron expressions have 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    for name, field in zip(_FIELD_NAMES, fields, strict=False):
        if not _FIELD.match(field):
            raise ScheduleError(f"'{text}': the {name} field '{field}' is malformed")
    normal = " ".join(fields)
    if not croniter.is_valid(normal):
        raise ScheduleError(f"'{text}': {_explain(fields)}")
    try:
        croniter(normal, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(f"'{text}' never fires (no such date)") from None
    return normal


def _explain(fields):
    """Name the first field croniter rejects, for a precise message."""
    for index, (name, field) in enumerate(zip(_FIELD_NAMES, fields, strict=False)):
        probe = ["*"] * 5
        probe[index] = field
        if not croniter.is_valid(" ".join(probe)):
            return f"the {name} field '{field}' is out of range or malformed"
    return "is not a valid cron expression"


def validate_timezone(name):
    """Return a ZoneInfo for the IANA ``name`` or raise ScheduleError."""
    if not isinstance(name, str) or not name or name not in _zone_names():
        raise ScheduleError(f"'{name}' is not a known IANA time zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"'{name}' is not a known IANA time zone") from None


@lru_cache(maxsize=1)
def _zone_names():
    return frozenset(available_timezones()) | {"UTC"}


def describe(expression, locale="en"):
    """The expression in words, e.g. 'At 03:00, only on Sunday'."""
    from cron_descriptor import ExpressionDescriptor
    from cron_descriptor import Options

    options = Options()
    options.use_24hour_time_format = True
    options.locale_code = {"en": "en_US", "de": "de_DE"}.get(locale, "en_US")
    return ExpressionDescriptor(normalize(expression), options).get_description()


@dataclass(frozen=True)
class Plan:
    """What a tick does with one job: slots to run and slots missed."""

    run: tuple = ()
    missed: tuple = ()  # (first missed slot, deadline), or ()
    last: datetime | None = None  # slots up to here are handled


class Schedule:
    """A cron expression evaluated on the wall clock of a time zone."""

    def __init__(self, expression, tz="UTC"):
        self.expression = normalize(expression)
        self.tz = validate_timezone(tz) if isinstance(tz, str) else tz
        minute, hour = self.expression.split()[:2]
        self.fixed_time = minute.isdigit() and hour.replace(",", "").isdigit()
        self._parsed = croniter(self.expression, datetime(2000, 1, 1))

    def __repr__(self):
        return f"<Schedule {self.expression!r} in {self.tz}>"

    def next_after(self, after):
        """The first slot strictly after the aware datetime ``after`` (UTC)."""
        after = after.astimezone(UTC)
        wall = after.astimezone(self.tz).replace(tzinfo=None)
        if self._offset(after) > self._offset(after + _MAX_SHIFT):
            # A repeated hour lies ahead: wall times before `wall` may still
            # have a second, later instant.
            wall -= _MAX_SHIFT
        candidates = copy(self._parsed)  # parsing costs more than a step
        candidates.set_current(wall, force=True)
        best = None
        while True:
            instants = self._instants(candidates.get_next(datetime))
            # The earliest instant of successive wall times never decreases,
            # so the first candidate that starts at or after `best` ends it,
            # and so does a `best` that is the earliest instant of its own.
            if best is not None and instants and instants[0] >= best:
                return best
            for instant in instants:
                if instant > after and (best is None or instant < best):
                    best = instant
            if instants and best == instants[0]:
                return best

    def slots(self, after, until):
        """Every slot in (after, until], oldest first."""
        slot = self.next_after(after)
        while slot <= until:
            yield slot
            slot = self.next_after(slot)

    def plan(self, last, now, catch_up="skip", grace=GRACE):
        """What to run at ``now`` for a job whose slots up to ``last`` are
        handled. Slots more than ``grace`` late are missed; with ``catch_up``
        'once' the first missed slot runs, standing for all of them."""
        first = self.next_after(last)
        if first > now:
            return Plan()
        deadline = now - grace
        on_time = tuple(self.slots(max(last, deadline - _TICK), now))
        missed = (first, deadline) if first < deadline else ()
        catch_up_run = (first,) if missed and catch_up == "once" else ()
        return Plan(
            run=catch_up_run + on_time,
            missed=missed,
            last=on_time[-1] if on_time else now,
        )

    def _offset(self, instant):
        return instant.astimezone(self.tz).utcoffset()

    def _instants(self, naive):
        """The UTC instants of a wall time: one, two (repeated hour) or the
        end of the gap (fixed-time jobs only) when the wall time is skipped."""
        first = naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        second = naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        if first == second:
            return [first]
        if first < second:  # repeated hour
            return [first] if self.fixed_time else [first, second]
        if not self.fixed_time:  # gap
            return []
        return [self._gap_end(second, first)]

    def _gap_end(self, low, high):
        """The instant the clock jumps forward, between ``low`` and ``high``."""
        before = self._offset(low)
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if self._offset(middle) == before:
                low = middle
            else:
                high = middle
        return high.replace(microsecond=0)


@lru_cache(maxsize=20000)
def schedule_for(expression, tz):
    """A cached Schedule: parsing is done once per expression and zone."""
    return Schedule(expression, tz)


def utcnow():
    return datetime.now(UTC)
