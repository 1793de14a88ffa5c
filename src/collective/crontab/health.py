"""Is the crontab healthy? The clock ticks and no enabled job is late.

The clock is healthy when a tick reached the site in the last
``HEALTHY_WITHIN`` seconds (the stored heartbeat is refreshed at least
every ``log.HEARTBEAT_INTERVAL``, so every client of a ZEO cluster sees it).

A job is late when its first slot after its last successful run ('success'
or 'warning') is more than ``GRACE`` ago: its period plus the grace has passed
without a success. Time counts from the job's arming instead when that is
later, so a new, re-enabled or rescheduled job is not late before its first
slot. Not late: a job no tick has armed yet, a job whose run is in progress.
Late too ("failing"): a job none of whose last runs succeeded. An enabled job
with an invalid schedule or time zone is a problem too, and so is one the
ticks of this process set aside as invalid (it is not computed again).

A check reads each job's records and small state object once; callers who
may not see the details get a result reused for a few seconds.
"""

from AccessControl import getSecurityManager
from collective.crontab.engine import invalid_jobs
from collective.crontab.engine import last_tick
from collective.crontab.jobs import job_problem
from collective.crontab.jobs import read_jobs
from collective.crontab.permissions import ManageJobs
from collective.crontab.schedule import GRACE
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.state import not_ready
from collective.crontab.state import RECENT
from collective.crontab.status import SUCCEEDED
from itertools import islice
from plone.restapi.serializer.converters import json_compatible
from time import monotonic
from weakref import WeakKeyDictionary


#: The clock is healthy if a tick reached the site this recently (seconds).
HEALTHY_WITHIN = 300
#: Seconds the bare OK or FAIL of callers without details is reused.
CACHE_SECONDS = 5
_answers = WeakKeyDictionary()  # ZODB DB -> {site path: (expires, healthy)}


def check(site, now=None):
    """The health of the crontab of ``site`` at ``now`` (aware; default: the
    time now) as a dict: ``healthy``, ``clock``, ``late``, ``invalid`` and
    ``problems`` (one sentence each). Checks no permission."""
    now = now or utcnow()
    crontab = get_crontab(site)
    problem = not_ready(crontab)
    if problem is not None:
        return {"healthy": False, "now": now, "problems": [problem]}
    clock = clock_status(crontab, now)
    at, client, seconds = clock["last_tick"], clock["client"], clock["seconds_ago"]
    problems = []
    if at is None:
        problems.append("The clock has never ticked")
    elif not clock["healthy"]:
        problems.append(
            f"The clock has not ticked for {int(seconds // 60)} minutes "
            f"(last tick at {_text(at)} by {client})"
        )
    late, invalid = [], {}
    known = invalid_jobs(site)
    for job in read_jobs():
        if not job.enabled:
            continue
        lateness = None
        if job.id in known:
            invalid[job.id] = known[job.id]
        else:
            try:
                lateness = _lateness(
                    job, crontab.state(job.id), crontab.handled.get(job.id), now
                )
            except Exception as error:
                invalid[job.id] = job_problem(job.id, error)
        if job.id in invalid:
            problems.append(invalid[job.id])
            continue
        if lateness is not None:
            late.append(lateness)
            problems.append(lateness["message"])
    return {
        "healthy": not problems,
        "now": now,
        "clock": clock,
        "late": late,
        "invalid": invalid,
        "problems": problems,
    }


def clock_status(crontab, now):
    """When the last tick reached the site: ``last_tick`` (aware datetime or
    None), ``client``, ``seconds_ago`` and ``healthy`` (a tick in the last
    HEALTHY_WITHIN seconds)."""
    at, client = last_tick(crontab)
    seconds = (now - at).total_seconds() if at is not None else None
    return {
        "last_tick": at,
        "client": client,
        "seconds_ago": seconds,
        "healthy": seconds is not None and seconds <= HEALTHY_WITHIN,
    }


def _lateness(job, state, handled, now):
    """None if ``job`` is on time at ``now``, else a dict saying why not
    (``handled``: every slot up to here is handled; None: not armed yet)."""
    cron = job.cron
    if state is None or handled is None or state.lease is not None:
        return None
    success = _last_success(state)
    since = success["slot"] if success else None
    last_slot = state.last_run["slot"] if state.last_run else None
    if last_slot is None or handled > last_slot:
        since = max(since, handled) if since else handled
    entry = {
        "job": job.id,
        "last_success": success["slot"] if success else None,
        "last_status": state.last_run["status"] if state.last_run else None,
    }
    if since is None:
        entry["due"] = last_slot
        entry["message"] = (
            "Cron job '{}' is failing: none of its last runs succeeded "
            "(last run for {}: {})".format(
                job.id, _text(last_slot), entry["last_status"]
            )
        )
        return entry
    due = cron.next_after(since)
    if due + GRACE >= now:
        return None
    entry["due"] = due
    entry["message"] = (
        "Cron job '{}' is late: no successful run since its slot at {} "
        "(last run: {})".format(job.id, _text(due), entry["last_status"] or "none")
    )
    return entry


def _text(moment):
    return moment.replace(microsecond=0).isoformat()


def _last_success(state):
    """The latest successful run among the last RECENT entries, or None."""
    if state.last_run and state.last_run["status"] in SUCCEEDED:
        return state.last_run
    for run in islice(state.runs.values(), RECENT):
        if run.status in SUCCEEDED:
            return run.as_dict()
    return None


def healthy(site):
    """check(site)["healthy"], reused for CACHE_SECONDS in this process: what
    anonymous monitors get, however often they ask."""
    answers = _answers.setdefault(site._p_jar.db(), {})
    path = site.getPhysicalPath()
    expires, answer = answers.get(path, (0, None))
    if expires <= monotonic():
        answer = check(site)["healthy"]
        answers[path] = (monotonic() + CACHE_SECONDS, answer)
    return answer


def details(result):
    """``result`` of check() as JSON-able data, with ``status`` OK or FAIL."""
    return json_compatible(dict(result, status="OK" if result["healthy"] else "FAIL"))


def may_see_details(site):
    """Only managers of cron jobs see more than OK or FAIL."""
    return bool(getSecurityManager().checkPermission(ManageJobs, site))
