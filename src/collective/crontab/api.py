"""The Python API of collective.crontab.

Every function works on the current site (``zope.component.hooks.getSite``)
and checks the current user's permission: ``collective.crontab.ManageJobs``
for jobs and history, ``collective.crontab.RunTick`` for ``tick``. Jobs
created or edited here run as the editing user; only a Manager may name
another owner.

Every function that changes a job records the change in the job's change
log (``changes``): who, when, which fields old -> new, and ``via``, through
what: a ``collective.crontab.state.Via`` ("api", the default: Python code;
"panel", "rest", "cli", "import": a profile's registry.xml; "upgrade": an
upgrade step).

Raises ``collective.crontab.jobs.JobError`` (naming the job and the fields)
for bad input, ``AccessControl.Unauthorized`` for missing rights, and
``KeyError`` for an unknown job id.
"""

from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from collective.crontab import engine
from collective.crontab import health
from collective.crontab import logger
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import NotInstalled
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import FIELDS
from collective.crontab.jobs import job_ids as stored_job_ids
from collective.crontab.jobs import read_job
from collective.crontab.jobs import read_jobs
from collective.crontab.jobs import remove_job
from collective.crontab.jobs import site_timezone as stored_site_timezone
from collective.crontab.jobs import validate
from collective.crontab.jobs import write_job
from collective.crontab.permissions import ManageJobs
from collective.crontab.permissions import RunTick
from collective.crontab.schedule import utcnow
from collective.crontab.state import changed_fields
from collective.crontab.state import get_crontab
from collective.crontab.state import Via
from collective.crontab.status import Status
from dataclasses import asdict
from zope.component import queryUtility
from zope.component.hooks import getSite

import transaction


def _site(permission):
    site = getSite()
    if not getSecurityManager().checkPermission(permission, site):
        raise Unauthorized(f"You may not {_VERBS[permission]} in this site")
    if get_crontab(site) is None:
        raise NotInstalled("collective.crontab is not installed in this site")
    return site


_VERBS = {ManageJobs: "manage cron jobs", RunTick: "run the cron tick"}


def _existing(job_id):
    job = read_job(job_id)
    if job is None:
        raise KeyError(f"There is no cron job '{job_id}'")
    return job


def _as_dict(site, job, now=None):
    data = asdict(job)
    del data["site_timezone"]
    state = get_crontab(site).state(job.id)
    now = now or utcnow()
    data["effective_timezone"] = job.zone
    data["next_run"] = None
    if job.enabled:
        try:
            last = state.last if state is not None and state.last else now
            data["next_run"] = job.cron.next_after(max(last, now))
        except JobError as error:
            data["error"] = str(error)
    last = state.last_run if state is not None else None
    data["last_run"] = dict(last, status=Status(last["status"])) if last else None
    data["last_status"] = data["last_run"]["status"] if data["last_run"] else None
    data["running"] = dict(state.lease) if state is not None and state.lease else None
    data["queued"] = job.id in get_crontab(site).queue
    data["recent"] = tuple(state.recent) if state is not None else ()
    data.update(_shipped(job, data, state))
    return data


def _shipped(job, data, state):
    """Where a job an add-on ships comes from and how it differs here."""
    origin = state.origin if state is not None else None
    if origin is None:
        return {"origin": None, "customized": [], "orphaned": False, "shipped": None}
    return {
        "origin": origin.profile,
        "customized": [
            name for name in FIELDS if origin.values.get(name) != data[name]
        ],
        "orphaned": queryUtility(ICronRunner, name=job.runner) is None,
        "shipped": dict(origin.values),
    }


def _who():
    return getSecurityManager().getUser().getId() or ""


def _log_change(site, job_id, before, via, note=""):
    """Record in the job's change log how it differs from ``before`` (a dict
    of its fields, None for a new job); in the transaction of the change."""
    after = asdict(read_job(job_id))
    fields = changed_fields(before, {name: after[name] for name in FIELDS})
    if fields:
        state = get_crontab(site).state(job_id, create=True)
        state.log_change(_who(), via, fields, note)


def _owner(site, job_id, fields):
    user = getSecurityManager().getUser()
    user_id = user.getId() or ""
    requested = fields.get("owner")
    if requested and requested != user_id:
        if not user.has_role("Manager", site):
            raise Unauthorized(
                f"Cron job '{job_id}': only a Manager may make a job run as another "
                f"user ('{requested}')"
            )
        if engine.find_user(site, requested) is None:
            raise JobError(job_id, {"owner": f"user '{requested}' does not exist"})
        return requested
    return user_id


def job_ids():
    """The ids of every job, sorted."""
    _site(ManageJobs)
    return stored_job_ids()


def site_timezone():
    """The site's time zone: the one of jobs with no time zone of their own."""
    return stored_site_timezone()


def jobs():
    """Every job as a dict with its state (next_run, last_run, last_status)."""
    site = _site(ManageJobs)
    now = utcnow()
    return [_as_dict(site, job, now) for job in read_jobs()]


def get_job(job_id):
    """The job ``job_id`` as a dict with its state."""
    site = _site(ManageJobs)
    return _as_dict(site, _existing(job_id))


def add_job(job_id, *, via=Via.API, **fields):
    """Create job ``job_id``; required fields: title, runner, schedule."""
    site = _site(ManageJobs)
    if read_job(job_id) is not None:
        raise JobError(job_id, {"id": "a job with this id already exists"})
    fields["owner"] = _owner(site, job_id, fields)
    write_job(job_id, validate(job_id, fields))
    _log_change(site, job_id, None, via)
    return get_job(job_id)


def update_job(job_id, *, via=Via.API, **fields):
    """Change some fields of job ``job_id``."""
    return _update(_site(ManageJobs), job_id, fields, via)


def _update(site, job_id, fields, via, note=""):
    current = asdict(_existing(job_id))
    values = {name: current[name] for name in FIELDS}
    values.update(fields)
    values["owner"] = _owner(site, job_id, fields)
    write_job(job_id, validate(job_id, values))
    _log_change(site, job_id, current, via, note)
    return get_job(job_id)


def revert_job(job_id, *, via=Via.API):
    """Put back the values the add-on that ships job ``job_id`` gives it
    (the owner follows the owner rule). JobError if no add-on ships it."""
    site = _site(ManageJobs)
    _existing(job_id)
    state = get_crontab(site).state(job_id)
    if state is None or state.origin is None:
        raise JobError(job_id, {"origin": "no add-on profile ships this job"})
    origin = state.origin
    return _update(site, job_id, origin.values, via, f"reverted to {origin.profile}")


def changes(job_id, limit=None, start=0):
    """The change log of job ``job_id`` as dicts, newest first: when, who,
    via, note and fields (a list of dicts field, old, new)."""
    site = _site(ManageJobs)
    state = get_crontab(site).state(job_id)
    if state is None:
        _existing(job_id)
        return []
    entries = state.change_log()
    return entries[start : None if limit is None else start + limit]


def delete_job(job_id, *, via=Via.API):
    """Remove job ``job_id``, its state, its history and its change log
    (the deletion itself goes to the event log)."""
    site = _site(ManageJobs)
    _existing(job_id)
    remove_job(job_id)
    get_crontab(site).forget(job_id)
    logger.info("Cron job '%s' deleted by '%s' (via %s)", job_id, _who(), via)


def history(job_id, limit=20, start=0, status=None):
    """Runs of job ``job_id`` as dicts, newest first."""
    site = _site(ManageJobs)
    state = get_crontab(site).state(job_id)
    if state is None:
        _existing(job_id)
        return []
    return state.history(limit=limit, start=start, status=status)


def count_runs(job_id, status=None):
    """How many runs of job ``job_id`` the history holds (of ``status``)."""
    site = _site(ManageJobs)
    state = get_crontab(site).state(job_id)
    if state is None:
        _existing(job_id)
        return 0
    return state.size(Status(status) if status else None)


def clear_history(job_id):
    """Delete every recorded run of job ``job_id``."""
    site = _site(ManageJobs)
    state = get_crontab(site).state(job_id)
    if state is not None:
        state.clear()


def run_now(job_id, immediately=False):
    """Queue job ``job_id`` to run at the next tick, enabled or not. With
    ``immediately``, commit and run it in this request; returns the summary."""
    site = _site(ManageJobs)
    _existing(job_id)
    get_crontab(site).queue[job_id] = utcnow()
    if immediately:
        transaction.commit()
        return engine.run_queued_now(site, job_id)
    return None


def clock_health(now=None):
    """When the last tick reached the site: a dict with ``last_tick``
    (aware datetime or None), ``client``, ``seconds_ago`` and ``healthy``
    (a tick in the last 5 minutes)."""
    site = _site(ManageJobs)
    return health.clock_status(get_crontab(site), now or utcnow())


def tick(now=None):
    """Run what is due at ``now`` (default: the current UTC time); returns
    a summary dict (keys ran, skipped, missed, lost, abandoned, invalid)."""
    return engine.tick(_site(RunTick), now=now)
