"""Cron expressions in words, saying what schedule.py makes of them.

describe() gives a Text (a msgid with its values, see exceptions.py):
english() makes it English, the control panel translates it. When both day
fields are restricted, the words join them as cron does: "if it is" when a
day must match both (one field starts with ``*``), "or" when either is
enough. Weekday and month names are messages too, never the process locale.
"""

from collective.crontab.exceptions import Text
from collective.crontab.schedule import _parse
from collective.crontab.schedule import LAST
from collective.crontab.schedule import LAST_WEEKDAY
from itertools import groupby


def _(msgid, **mapping):
    """A message of the collective.crontab catalogue with its values."""
    return Text(msgid, mapping or None)


WEEKDAYS = (
    _("Sunday"),
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
)
MONTHS = (
    None,
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
)
ORDINALS = (None, _("1st"), _("2nd"), _("3rd"), _("4th"), _("5th"))
AND, OR = _("${items} and ${last}"), _("${items} or ${last}")
#: At most this many times of day are listed one by one ("At 02:00 and 14:30").
TIMES = 6


def describe(expression):
    """The schedule of ``expression`` in words; raises ScheduleError."""
    normal, sets, day_and = _parse(expression)
    minutes, hours, dom, months, dow = sets
    dom_text, dow_text = normal.split()[2::2]
    parts = [_time(sorted(minutes), sorted(hours))]
    by_dom = not (dom_text.startswith("*") and dom >= set(range(1, 32)))
    by_dow = not (dow_text.startswith("*") and len(_weekdays(dow)) == 7)
    if by_dom and by_dow:
        days = _month_days(dom)
        if day_and:
            text = _("${days}, if it is ${weekdays}", days=days, weekdays=_is(dow))
        else:
            text = _("${days} or ${weekdays}", days=days, weekdays=_on(dow))
        parts.append(text)
    elif by_dom:
        parts.append(_month_days(dom))
    elif by_dow:
        parts.append(_on(dow))
    if len(months) < 12:
        parts.append(_list(_names(sorted(months), MONTHS, _("in ${names}")), AND))
    return _join(parts, ", ")


def _time(minutes, hours):
    """The minute and hour fields ("Every 5 minutes, between 02:00 and 02:59")."""
    if len(minutes) * len(hours) <= TIMES:
        times = [f"{hour:02}:{minute:02}" for hour in hours for minute in minutes]
        return _("At ${times}", times=_list(times, AND))
    step = minutes[1] - minutes[0] if len(minutes) > 1 else 0
    cadence = step and 60 % step == 0 and minutes == list(range(0, 60, step))
    if cadence:
        words = _("Every ${step} minutes", step=step)
        if step == 1:
            words = _("Every minute")
    elif len(minutes) == 1:
        words = _("At minute ${minutes}", minutes=minutes[0])
    else:
        words = _("At minutes ${minutes}", minutes=_numbers(minutes))
    runs = _runs(hours)
    if len(hours) == 24:
        return words if cadence else _join([words, _("every hour")], ", ")
    if len(runs) == 1:
        ((first, last),) = runs
        start, end = f"{first:02}:00", f"{last:02}:59"
        hours = _("between ${start} and ${end}", start=start, end=end)
    else:
        hours = _("in the hours ${hours}", hours=_numbers(hours))
    return _join([words, hours], ", ")


def _month_days(dom):
    """The day-of-month field ("on day 15 and on the last day of the month")."""
    numbers = sorted(day for day in dom if isinstance(day, int))
    items = []
    step = numbers[1] - numbers[0] if len(numbers) > 2 else 0
    if step > 1 and numbers == list(range(numbers[0], numbers[-1] + 1, step)):
        items.append(
            _(
                "every ${step} days of the month from day ${first} to ${last}",
                step=step,
                first=numbers[0],
                last=numbers[-1],
            )
        )
    elif len(numbers) == 1:
        items.append(_("on day ${days} of the month", days=numbers[0]))
    elif numbers:
        items.append(_("on days ${days} of the month", days=_numbers(numbers)))
    if LAST in dom:
        items.append(_("on the last day of the month"))
    if LAST_WEEKDAY in dom:
        items.append(_("on the last weekday of the month"))
    return _list(items, AND)


def _on(dow):
    """The day-of-week field as the days a job runs on ("on Monday")."""
    items = _names(_weekdays(dow), WEEKDAYS, _("on ${names}"))
    items.extend(
        _("on the last ${weekday} of the month", weekday=weekday)
        if nth == LAST
        else _("on the ${nth} ${weekday} of the month", nth=nth, weekday=weekday)
        for weekday, nth in _nths(dow)
    )
    return _list(items, AND)


def _is(dow):
    """The day-of-week field as what a day must be ("Monday or Friday")."""
    items = [
        WEEKDAYS[first]
        if first == last
        else _(
            "a day from ${first} to ${last}",
            first=WEEKDAYS[first],
            last=WEEKDAYS[last],
        )
        for first, last in _spans(_weekdays(dow))
    ]
    items.extend(
        _("the last ${weekday} of the month", weekday=weekday)
        if nth == LAST
        else _("the ${nth} ${weekday} of the month", nth=nth, weekday=weekday)
        for weekday, nth in _nths(dow)
    )
    return _list(items, OR)


def _weekdays(dow):
    """The plain weekdays of the day-of-week field, 0 (Sunday) to 6."""
    return sorted({day % 7 for day in dow if isinstance(day, int)})


def _nths(dow):
    """(weekday name, ordinal or LAST) of the ``5#2`` and ``5L`` values."""
    values = sorted((day for day in dow if not isinstance(day, int)), key=str)
    for weekday, nth in values:
        yield WEEKDAYS[weekday], nth if nth == LAST else ORDINALS[nth]


def _names(values, names, text):
    """Month or weekday numbers as items, in order: ``text`` ("in ${names}")
    for each group of single ones, "from May to July" for each range."""
    items = []
    for single, group in groupby(_spans(values), key=lambda span: span[0] == span[1]):
        spans = [{"first": names[first], "last": names[last]} for first, last in group]
        if single:
            singles = _list([span["first"] for span in spans], AND)
            items.append(Text(text, {"names": singles}))
        else:
            items += [_("from ${first} to ${last}", **span) for span in spans]
    return items


def _numbers(values):
    """Numbers as "0, 15 and 30 to 40"."""
    return _list(
        [
            str(first)
            if first == last
            else _("${first} to ${last}", first=first, last=last)
            for first, last in _spans(values)
        ],
        AND,
    )


def _spans(values):
    """The runs of consecutive sorted ``values`` as (first, last), runs of
    less than three values as single ones (first == last)."""
    spans = []
    for first, last in _runs(values):
        if last - first >= 2:
            spans.append((first, last))
        else:
            spans += [(value, value) for value in range(first, last + 1)]
    return spans


def _runs(values):
    """(first, last) of each run of consecutive sorted ``values``."""
    runs = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return [tuple(run) for run in runs]


def _list(items, conjunction):
    """``items`` as "a, b and c" (``conjunction``: AND or OR)."""
    if len(items) == 1:
        return items[0]
    return Text(conjunction, {"items": _join(items[:-1], ", "), "last": items[-1]})


def _join(parts, separator):
    """One Text of ``parts`` with ``separator`` between them (not a message:
    its parts are)."""
    names = [f"p{index}" for index in range(len(parts))]
    template = separator.join(f"${{{name}}}" for name in names)
    return Text(template, dict(zip(names, parts, strict=True)))
