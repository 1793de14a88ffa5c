"""How the panel shows times, durations and run statuses."""

from collective.crontab import _
from collective.crontab.state import Via
from collective.crontab.status import Status
from datetime import datetime
from datetime import UTC
from zoneinfo import ZoneInfo


#: Bootstrap colour of each run status (badges and the strip of recent runs).
STATUS_COLOURS = {
    Status.SUCCESS: "success",
    Status.WARNING: "warning",
    Status.FAILURE: "danger",
    Status.ABANDONED: "dark",
    Status.MISSED: "secondary",
    Status.SKIPPED: "secondary",
}
STATUS_TITLES = {
    Status.SUCCESS: _("Success"),
    Status.WARNING: _("Warning"),
    Status.FAILURE: _("Failure"),
    Status.ABANDONED: _("Abandoned"),
    Status.MISSED: _("Missed"),
    Status.SKIPPED: _("Skipped"),
}


#: What the change log says for each ``via`` of collective.crontab.api.
VIA_TITLES = {
    Via.API: _("Python API"),
    Via.PANEL: _("control panel"),
    Via.REST: _("REST API"),
    Via.CLI: _("command line"),
    Via.IMPORT: _("profile import"),
    Via.UPGRADE: _("upgrade step"),
}


def value_text(value):
    """A field's value as the change log shows it (bools as messages)."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def local_time(when, zone):
    """``when`` (aware) on the wall clock of ``zone``: '2026-01-05 13:00 CET'."""
    if when is None:
        return ""
    local = when.astimezone(ZoneInfo(zone))
    return "{} {}".format(local.strftime("%Y-%m-%d %H:%M"), local.tzname())


def relative_time(when, now):
    """'in 2 h', '5 min ago', 'in 40 s', as a translatable message."""
    seconds = (when - now).total_seconds()
    amount = _amount(abs(seconds))
    if abs(seconds) < 1:
        return _("just now")
    if seconds > 0:
        return _("in ${amount}", mapping={"amount": amount})
    return _("${amount} ago", mapping={"amount": amount})


def _amount(seconds):
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def duration(seconds):
    """'0.42 s', '12 s', '3 min 5 s', '2 h 10 min'."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def strip(recent, zone):
    """The last runs (``JobState.recent``, newest first) as squares for the
    strip, oldest first: dicts with status, colour and started time."""
    squares = []
    for code, started, seconds in reversed(tuple(recent)):
        status = Status.from_code(code)
        when = datetime.fromtimestamp(started, UTC)
        squares.append({
            "status": status,
            "colour": STATUS_COLOURS[status],
            "title": STATUS_TITLES[status],
            "started": local_time(when, zone),
            "duration": duration(seconds),
        })
    return squares
