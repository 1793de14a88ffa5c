"""Cron expressions: validation and slots in a time zone (words: words.py).

Pure Python (zoneinfo); no Zope imports. Every datetime given to or returned
from this module is timezone-aware; slots are returned in UTC.

Cron means what Debian's (Vixie) cron means:

- Five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12
  or JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 are Sunday). Each is
  ``*``, a number, a range ``a-b`` (low to high: wrap-around ranges such as
  ``22-2`` are rejected), a step ``*/n``, ``a-b/n`` or ``a/n`` (from ``a`` to
  the field's end; in the day of week ``7/3`` is Sunday only), or a list of
  these. ``@hourly``, ``@daily``, ... are the usual aliases.
- Day of month and day of week: when either field starts with ``*``, a day
  must match both; otherwise a day matching either runs.
- The extensions cronsim (and healthchecks.io) accept, with their meaning:
  ``L`` (last day of the month), ``LW`` (last weekday of the month) and
  ``L/n`` (= ``L``) in the day of month; ``5L`` (last Friday) and ``5#2``
  (second Friday) in the day of week. ``?``, ``W`` and ``L5`` are rejected.

Daylight saving time, in Debian's terms: a job is *fixed-time* when neither
its minute nor its hour field starts with ``*`` (``30 2 * * *``,
``0,30 2 * * *``, ``0 1-5 * * *``). A fixed-time wall time in the
spring-forward gap runs once, at the end of the gap; a wall time repeated at
fall-back runs only the first time. Jobs whose minute or hour starts with
``*`` keep their real cadence: they skip the wall times that do not exist
and run twice through the repeated hour.

Every search is bounded: a schedule with no run time in the next
``MAX_YEARS`` years of its zone (``* 2 * 3 0#2`` in America/New_York has
every run in a gap) raises ScheduleError instead of searching on.
"""

from bisect import bisect_left
from collective.crontab.exceptions import ScheduleError
from collective.crontab.exceptions import Text
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from functools import lru_cache
from zoneinfo import available_timezones
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import calendar
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
#: How far a search looks for the next run time before giving up.
MAX_YEARS = 50
#: Missed slots counted one by one; beyond this the count is a lower bound.
MAX_COUNT = 10000
_MINUTE = timedelta(minutes=1)
_TICK = timedelta(microseconds=1)
_ = Text
_FIELD_NAMES = (_("minute"), _("hour"), _("day of month"), _("month"), _("day of week"))
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = [
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
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_NAMES = {
    3: {name: number for number, name in enumerate(_MONTHS, 1)},
    4: {name: number for number, name in enumerate(_WEEKDAYS)},
}
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIELD = re.compile(r"^[0-9A-Z*/,\-#]+$")
#: Day-of-month items besides numbers.
LAST, LAST_WEEKDAY = "L", "LW"


class _FieldError(Exception):
    """Why one field is invalid (the caller names the field)."""

    def __init__(self, text, **mapping):
        super().__init__(text)
        self.text = Text(text, mapping)


def normalize(expression):
    """Return the five-field form of ``expression`` or raise ScheduleError."""
    return _parse(expression)[0]


def _parse(expression):
    """(normal form, field sets, day-of-month/day-of-week AND) of an
    expression, or ScheduleError naming the field and why."""
    if not isinstance(expression, str):
        raise ScheduleError(
            _("must be text, not ${type}"), type=type(expression).__name__
        )
    return _parse_text(expression)


@lru_cache(maxsize=4096)
def _parse_text(expression):
    text = _text(expression)
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            _(
                "'${expression}' has ${count} fields; cron expressions have 5 "
                "(minute hour day-of-month month day-of-week)"
            ),
            expression=text,
            count=len(fields),
        )
    sets = []
    for index, field in enumerate(fields):
        try:
            sets.append(_parse_field(index, field.upper()))
        except _FieldError as error:
            raise ScheduleError(
                _("'${expression}': the ${field} field '${value}' ${problem}"),
                expression=text,
                field=_FIELD_NAMES[index],
                value=field,
                problem=error.text,
            ) from None
    day_and = fields[2].startswith("*") or fields[4].startswith("*")
    days, months = sets[2], sets[3]
    numbers = [day for day in days if isinstance(day, int)]
    if day_and and numbers and len(numbers) == len(days):
        longest = max(_DAYS_IN_MONTH[month] for month in months)
        if min(numbers) > longest:
            raise ScheduleError(
                _(
                    "'${expression}' never fires: no month in '${months}' has a "
                    "day ${day}"
                ),
                expression=text,
                months=fields[3],
                day=min(numbers),
            )
    return " ".join(fields), tuple(sets), day_and


def _text(expression):
    """The stripped text of ``expression`` with aliases expanded."""
    text = expression.strip()
    if not text:
        raise ScheduleError(_("is empty"))
    if len(text) > MAX_LENGTH:
        raise ScheduleError(_("is longer than ${max} characters"), max=MAX_LENGTH)
    if not text.isascii():
        raise ScheduleError(
            _("'${expression}' may only contain ASCII characters"), expression=text
        )
    if text.startswith("@"):
        try:
            text = ALIASES[text.lower()]
        except KeyError:
            raise ScheduleError(
                _("'${expression}' is not supported (use one of ${aliases})"),
                expression=text,
                aliases=", ".join(sorted(ALIASES)),
            ) from None
    return text


def _parse_field(index, text):  # noqa: C901
    """The set of values of one field (already upper case)."""
    low, high = _RANGES[index]
    if "?" in text:
        raise _FieldError(_("uses '?', which cron does not know (write '*')"))
    if not _FIELD.match(text):
        raise _FieldError(_("is malformed"))
    if text == "*":
        return frozenset(range(low, high + 1))
    if "," in text:
        values = set()
        for term in text.split(","):
            values |= _parse_field(index, term)
        return frozenset(values)
    if index == 4 and "L" in text:
        if not (text.endswith("L") and text[:-1].isdigit()):
            raise _FieldError(
                _(
                    "is malformed: the last weekday of the month is written "
                    "'5L' (last Friday)"
                )
            )
        return frozenset({(_number(index, text[:-1]) % 7, LAST)})
    if index == 4 and "#" in text:
        term, nth = text.split("#", 1)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _FieldError(_("is malformed: '#' takes a week from 1 to 5 ('5#2')"))
        return frozenset({(_number(index, term) % 7, int(nth))})
    if "/" in text:
        term, step = text.split("/", 1)
        if not step.isdigit() or int(step) == 0:
            raise _FieldError(_("has a step that is not a positive number"))
        values = _parse_field(index, term)
        if values & {LAST, LAST_WEEKDAY}:
            return values
        if len(values) == 1:
            (start,) = values
            return frozenset(range(start, high + 1, int(step)))
        return frozenset(sorted(values)[:: int(step)])
    if "-" in text:
        start, end = text.split("-", 1)
        first, last = _number(index, start), _number(index, end)
        if last < first:
            raise _FieldError(
                _(
                    "wraps around, which cron rejects: a range runs from low to "
                    "high (write two ranges, e.g. '${start}-${high},${low}-${end}')"
                ),
                start=start,
                high=high,
                low=low,
                end=end,
            )
        return frozenset(range(first, last + 1))
    if index == 2 and text in (LAST, LAST_WEEKDAY):
        return frozenset({text})
    if index == 2 and "W" in text:
        raise _FieldError(_("uses 'W' (nearest weekday), which only 'LW' supports"))
    return frozenset({_number(index, text)})


def _number(index, text):
    if text in _NAMES.get(index, ()):
        return _NAMES[index][text]
    low, high = _RANGES[index]
    if not text.isdigit():
        raise _FieldError(_("is malformed"))
    if not low <= int(text) <= high:
        raise _FieldError(_("is out of range (${low}-${high})"), low=low, high=high)
    return int(text)


def validate_timezone(name):
    """Return a ZoneInfo for the IANA ``name`` or raise ScheduleError."""
    if not isinstance(name, str) or not name or name not in _zone_names():
        raise ScheduleError(_("'${zone}' is not a known IANA time zone"), zone=name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            _("'${zone}' is not a known IANA time zone"), zone=name
        ) from None


@lru_cache(maxsize=1)
def _zone_names():
    return frozenset(available_timezones()) | {"UTC"}


@dataclass(frozen=True)
class Slots:
    """A range of slots: the first, the last and how many (``count`` is at
    least MAX_COUNT when more were due than were counted)."""

    first: datetime
    last: datetime
    count: int = 1


@dataclass(frozen=True)
class Plan:
    """What a tick does with one job: at most one run, for ``run[0]``; the
    earlier on-time slots it coalesces (``skipped``); the slots more than
    the grace late that are not run (``missed``). No slot is in two of
    these. ``stands_for`` is the range the run stands for: itself, the
    slots it coalesces and, with catch-up 'once', the missed ones."""

    run: tuple = ()  # () or (slot,)
    stands_for: Slots | None = None
    skipped: Slots | None = None
    missed: Slots | None = None
    last: datetime | None = None  # slots up to here are handled


class Schedule:
    """A cron expression evaluated on the wall clock of a time zone."""

    def __init__(self, expression, tz="UTC"):
        self.expression, sets, self.day_and = _parse(expression)
        self.tz = validate_timezone(tz) if isinstance(tz, str) else tz
        minutes, hours, self._dom, months, dow = sets
        self._minutes, self._hours = sorted(minutes), sorted(hours)
        self._months = months
        self._weekdays = frozenset(d % 7 for d in dow if isinstance(d, int))
        self._nth = frozenset(d for d in dow if not isinstance(d, int))
        minute, hour = self.expression.split()[:2]
        self.fixed_time = not minute.startswith("*") and not hour.startswith("*")
        self._utc = self.tz in (UTC, ZoneInfo("UTC"))
        self._month_days = {}
        self._changes = {}

    def __repr__(self):
        return f"<Schedule {self.expression!r} in {self.tz}>"

    def next_after(self, after):  # noqa: C901
        """The first slot strictly after the aware datetime ``after`` (UTC).

        Raises ScheduleError when there is none in MAX_YEARS years."""
        after = after.astimezone(UTC)
        if self._utc:
            wall = self.next_wall(after.replace(tzinfo=None))
            return wall.replace(tzinfo=UTC)
        local = after.astimezone(self.tz)
        wall = local.replace(tzinfo=None)
        offset, other = (
            local.utcoffset(),
            local.replace(fold=1 - local.fold).utcoffset(),
        )
        if other != offset:  # in a repeated hour
            start, end = self._repeated(wall, other if local.fold else offset)
            if local.fold == 0 and not self.fixed_time:
                # Earlier wall times of the hour come again after this pass.
                candidate = self.next_wall(wall)
                if candidate >= end:
                    candidate = self.next_wall(start - _TICK)
                    if candidate < end:
                        return self._instant(candidate, fold=1)
                    wall = end - _TICK
                else:
                    return self._instant(candidate, fold=0)
            elif local.fold == 1:
                candidate = self.next_wall(wall)
                if candidate < end and not self.fixed_time:
                    return self._instant(candidate, fold=1)
                wall = max(wall, end - _TICK)
        gaps, limit = 0, wall.year + MAX_YEARS
        while True:
            candidate = self.next_wall(wall, limit, gaps)
            first = self._instant(candidate, fold=0)
            second = self._instant(candidate, fold=1)
            if first <= second:  # one instant, or the first of a repeated one
                if first > after:
                    return first
                if second > after and not self.fixed_time:
                    return second
                wall = candidate
                continue
            start, end, change = self._gap(candidate, second, first)
            if self.fixed_time and change > after:
                return change
            gaps += 1
            wall = end - _TICK

    def slots(self, after, until):
        """Every slot in (after, until], oldest first."""
        slot = self.next_after(after)
        while slot <= until:
            yield slot
            slot = self.next_after(slot)

    def plan(self, last, now, catch_up="skip", grace=GRACE):
        """What to run at ``now`` for a job whose slots up to ``last`` are
        handled. A tick runs a job at most once: for its latest slot within
        ``grace`` of ``now``, the earlier ones coalesced into that run; slots
        more than ``grace`` late are missed, and with ``catch_up`` 'once' the
        latest of them runs when no slot is on time."""
        first = self.next_after(last)
        if first > now:
            return Plan()
        deadline = now - grace
        on_time = list(self.slots(max(last, deadline - _TICK), now))
        missed = self._range(first, deadline) if first < deadline else None
        run = on_time[-1:]
        if not run and missed and catch_up == "once":
            run, count = [missed.last], missed.count
            missed = None
            if count > 1:
                missed = Slots(first, self._last_before(run[0]), count - 1)
            stands_for = Slots(first, run[0], count)
        elif run:
            stands_for = Slots(on_time[0], run[0], len(on_time))
            if missed and catch_up == "once":
                stands_for = Slots(first, run[0], missed.count + len(on_time))
        else:
            stands_for = None
        skipped = (
            Slots(on_time[0], on_time[-2], len(on_time) - 1)
            if len(on_time) > 1
            else None
        )
        return Plan(
            run=tuple(run),
            stands_for=stands_for,
            skipped=skipped,
            missed=missed,
            last=on_time[-1] if on_time else now,
        )

    def _range(self, first, before):
        """Slots(first, the last slot before ``before``, count)."""
        count, slot, last = 1, first, first
        while count < MAX_COUNT:
            slot = self.next_after(slot)
            if slot >= before:
                return Slots(first, last, count)
            last, count = slot, count + 1
        return Slots(first, self._last_before(before), count)

    def _last_before(self, before):
        """The last slot before ``before`` (there is one)."""
        span = _MINUTE
        while (last := self.next_after(before - span)) >= before:
            span *= 2
        for slot in self.slots(last, before - _TICK):
            last = slot
        return last

    # -- wall clock ------------------------------------------------------

    def next_wall(self, after, limit=None, gaps=0):
        """The first naive wall time strictly after the naive ``after`` that
        the expression matches, DST aside; searches up to the year ``limit``
        (default: MAX_YEARS ahead), then raises ScheduleError."""
        moment = after.replace(second=0, microsecond=0) + _MINUTE
        year, month, day = moment.year, moment.month, moment.day
        hour, minute = moment.hour, moment.minute
        limit = min(limit or after.year + MAX_YEARS, 9999)
        while year <= limit:
            if month in self._months:
                days = self._days(year, month)
                for index in range(bisect_left(days, day), len(days)):
                    if days[index] != day:
                        hour = minute = 0
                    found = self._time_from(hour, minute)
                    if found:
                        return datetime(year, month, days[index], *found)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            day = 1
            hour = minute = 0
        if gaps:
            text = _(
                "'${expression}' has no run time in ${zone} within ${years} years "
                "(its run times fall in daylight-saving gaps)"
            )
        else:
            text = _("'${expression}' has no run time in ${zone} within ${years} years")
        raise ScheduleError(
            text, expression=self.expression, zone=self.tz, years=MAX_YEARS
        )

    def _time_from(self, hour, minute):
        hours, minutes = self._hours, self._minutes
        index = bisect_left(hours, hour)
        if index < len(hours) and hours[index] == hour:
            position = bisect_left(minutes, minute)
            if position < len(minutes):
                return hour, minutes[position]
            index += 1
        if index < len(hours):
            return hours[index], minutes[0]
        return None

    def _days(self, year, month):
        """The matching days of a month, sorted (cached)."""
        key = (year, month)
        days = self._month_days.get(key)
        if days is None:
            if len(self._month_days) > 1200:
                self._month_days.clear()
            monday, length = calendar.monthrange(year, month)  # 0 = Monday
            days = self._month_days[key] = [
                day
                for day in range(1, length + 1)
                if self._day_matches(day, (monday + day) % 7, length, monday)
            ]
        return days

    def _day_matches(self, day, weekday, length, monday):
        """Whether ``day`` (its ``weekday``: 0 = Sunday) of a month of
        ``length`` days starting on weekday ``monday`` (0 = Monday) runs."""
        dom = day in self._dom or (LAST in self._dom and day == length)
        if LAST_WEEKDAY in self._dom:
            last = (monday + length - 1) % 7  # 0 = Monday
            dom = dom or day == length - {5: 1, 6: 2}.get(last, 0)
        dow = weekday in self._weekdays
        dow = dow or (weekday, (day + 6) // 7) in self._nth
        dow = dow or ((weekday, LAST) in self._nth and day + 7 > length)
        return (dom and dow) if self.day_and else (dom or dow)

    # -- time zone -------------------------------------------------------

    def _instant(self, wall, fold):
        return wall.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)

    def _repeated(self, wall, before):
        """(start, end) naive wall times of the repeated hour around ``wall``,
        whose first pass has the offset ``before``."""
        change = self._changes.get((wall.date(), before))
        if change is None:
            first, second = self._instant(wall, 0), self._instant(wall, 1)
            change = self._change(wall.date(), first, second)
        return change[:2]

    def _gap(self, wall, low, high):
        """(start, end, instant of the jump) of the gap around ``wall``."""
        return self._change(wall.date(), low, high)

    def _change(self, day, low, high):
        """The offset change between the instants ``low`` and ``high``:
        (first affected wall time, first unaffected wall time, instant)."""
        key = (day, low.astimezone(self.tz).utcoffset())
        change = self._changes.get(key)
        if change is None:
            before = key[1]
            at = offset_change(self.tz, low, high)
            walls = sorted(
                (at + offset).replace(tzinfo=None)
                for offset in (before, at.astimezone(self.tz).utcoffset())
            )
            change = self._changes[key] = (walls[0], walls[1], at)
        return change


def offset_change(zone, low, high):
    """The instant (UTC, whole seconds) at which the UTC offset of ``zone``
    changes between the instants ``low`` and ``high`` (found by bisection)."""
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


@lru_cache(maxsize=20000)
def schedule_for(expression, tz):
    """A cached Schedule whose next slot can be computed: parsing is done
    once per expression and zone. Raises ScheduleError."""
    schedule = Schedule(expression, tz)
    schedule.next_after(utcnow())
    return schedule


def utcnow():
    return datetime.now(UTC)
