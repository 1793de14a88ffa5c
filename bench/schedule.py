"""next_after against cronsim: the time to walk the next runs of a set of
expressions, away from DST changes and across them (the 3 hours before a
fall-back were the slow case, issue 11). Each figure is the median over
rounds of ours ÷ cronsim's, measured alternately in this run."""

from collective.crontab.schedule import Schedule
from collective.crontab.schedule import UTC
from cronsim import CronSim
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

import time


EXPRESSIONS = (
    "* * * * *",
    "*/5 * * * *",
    "0 * * * *",
    "*/15 2 * * *",
    "30 2 * * *",
    "0,30 2 * * *",
    "15 2,14 * * *",
    "0 1-5 * * *",
    "0 9 * * 1-5",
    "0 0 1 * *",
    "0 0 L * *",
    "0 0 * * 5L",
    "0 0 13 * 5#2",
)
#: (kind, zone, start): steady time; 3 hours before a fall-back (the old
#: slow case); 30 minutes before a gap; inside a repeated hour's first pass.
STARTS = (
    ("steady", "Europe/Berlin", datetime(2026, 6, 10, 9, tzinfo=UTC)),
    ("3 h before fall-back", "Europe/Berlin", datetime(2026, 10, 24, 22, tzinfo=UTC)),
    ("before gap", "Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
    ("repeated hour", "Europe/Berlin", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("repeated hour", "America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ("before gap", "Australia/Lord_Howe", datetime(2026, 10, 3, 15, 15, tzinfo=UTC)),
)
RUNS = 120
ROUNDS = 7


def ours(expression, zone, start):
    schedule = Schedule(expression, zone)
    after = start
    for _index in range(RUNS):
        after = schedule.next_after(after)


def cronsim(expression, zone, start):
    iterator = CronSim(expression, start.astimezone(ZoneInfo(zone)))
    for _index in range(RUNS):
        next(iterator)


def _seconds(function, *args, repeat=3):
    """The best of ``repeat`` timings (a busy machine only adds time)."""
    best = None
    for _index in range(repeat):
        started = time.perf_counter()
        function(*args)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best


def ratios():
    """{(expression, kind, zone): median ours ÷ cronsim} for every case."""
    found = {}
    for expression in EXPRESSIONS:
        for kind, zone, start in STARTS:
            ours(expression, zone, start)  # warm: parse, load the zone
            cronsim(expression, zone, start)
            rounds = []
            for round_ in range(ROUNDS):
                pair = (ours, cronsim) if round_ % 2 else (cronsim, ours)
                times = {f: _seconds(f, expression, zone, start) for f in pair}
                rounds.append(times[ours] / times[cronsim])
            found[expression, kind, zone] = median(rounds)
    return found


def figures():
    """The worst ratio away from DST changes and across them, and each."""
    found = ratios()
    steady = [ratio for (_e, kind, _z), ratio in found.items() if kind == "steady"]
    edges = [ratio for (_e, kind, _z), ratio in found.items() if kind != "steady"]
    details = {
        f"{expression} | {kind} {zone}": round(ratio, 2)
        for (expression, kind, zone), ratio in found.items()
    }
    return round(max(steady), 2), round(max(edges), 2), details


if __name__ == "__main__":
    steady, edges, details = figures()
    for case, ratio in sorted(details.items(), key=lambda item: -item[1]):
        print(f"{ratio:6.2f}  {case}")
    print(f"worst steady {steady}, worst across DST changes {edges}")
