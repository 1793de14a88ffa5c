"""The Python API of collective.crontab.

Every function works on the current site (``zope.component.hooks.getSite``)
and checks the current user's permission: ``collective.crontab.ManageJobs``
for jobs and history, ``collective.crontab.RunTick`` for ``tick``. A job
added here runs as the user who adds it; only a Manager may name another
owner (see ``update_job`` for when the owner changes).

Every function that changes a job records the change in the job's change
log (``changes``): who, when, which fields old -> new, and ``via``, through
what: a ``collective.crontab.state.Via`` ("api", the default: Python code;
"panel", "rest", "cli", "import": a profile's registry.xml; "upgrade": an
upgrade step).

Every function raises ``AccessControl.Unauthorized`` for missing rights
and ``collective.crontab.exceptions.NotInstalled`` in a site without the
add-on; those taking a job id raise ``KeyError`` for an unknown one; those
taking fields raise ``collective.crontab.exceptions.JobError`` (naming the
job and every bad field) for bad input.

Transactions: the functions write in the current transaction and leave the
commit to the caller (the publisher, or your script), except ``tick`` and
``run_now(immediately=True)``: they commit the current transaction first,
then run every step (claim, run, record) in a transaction of its own.
"""

from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from collective.crontab import _
from collective.crontab import engine
from collective.crontab import health
from collective.crontab import logger
from collective.crontab import owners
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import NotInstalled
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import FIELDS
from collective.crontab.jobs import job_ids as stored_job_ids
from collective.crontab.jobs import job_problem
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
from collective.crontab.state import not_ready
from collective.crontab.state import Via
from collective.crontab.status import Status
from dataclasses import asdict
from zope.component import queryUtility
from zope.component.hooks import getSite
from zope.i18n import translate

import transaction


def _site(permission):
    site = getSite()
    if not getSecurityManager().checkPermission(permission, site):
        raise Unauthorized(f"You may not {_VERBS[permission]} in this site")
    problem = not_ready(get_crontab(site))
    if problem is not None:
        raise NotInstalled(problem)
    return site


_VERBS = {ManageJobs: "manage cron jobs", RunTick: "run the cron tick"}


def _existing(job_id):
    job = read_job(job_id)
    if job is None:
        raise KeyError(f"There is no cron job '{job_id}'")
    return job


def _as_dict(site, job, now=None, invalid=None):
    data = asdict(job)
    del data["site_timezone"]
    crontab = get_crontab(site)
    state = crontab.state(job.id)
    now = now or utcnow()
    data["effective_timezone"] = job.zone
    data["runs_as"] = translate(owners.describe(job.owner))
    data["next_run"] = None
    if job.enabled:
        if invalid is None:
            invalid = engine.invalid_jobs(site)
        error = invalid.get(job.id)
        if error is None:
            try:
                last = crontab.handled.get(job.id, now)
                data["next_run"] = job.cron.next_after(max(last, now))
            except Exception as exception:
                error = job_problem(job.id, exception)
        if error is not None:
            data["error"] = error
    last = state.last_run if state is not None else None
    data["last_run"] = dict(last, status=Status(last["status"])) if last else None
    data["last_status"] = data["last_run"]["status"] if data["last_run"] else None
    lease = state.lease if state is not None else None
    data["running"] = lease.as_dict() if lease is not None else None
    data["queued"] = job.id in crontab.queue
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


#: The fields that say what a job does: whoever else changes them owns it.
WHAT_IT_DOES = ("runner", "arguments")


def _owner(site, job_id, fields, current=None):
    """The owner a write of ``fields`` leaves job ``job_id`` with (``current``:
    the stored values, None for a new job), and whether it changed.

    The owner changes only when a Manager names another one (a Zope-root
    user only if they may manage the root), or when someone other than the
    owner changes what the job does: then they become its owner."""
    editor = owners.current_owner(site)
    stored = current["owner"] if current is not None else None
    requested = fields.get("owner")
    if requested is not None and requested != stored:
        if current is not None or requested != editor:
            _check_may_name(site, job_id, requested)
        return requested, current is not None
    if current is None:
        if editor is None:
            raise Unauthorized(
                f"Cron job '{job_id}': you are not a user of this site or of "
                "the Zope root, so the job could not run as you"
            )
        return editor, False
    changes = any(
        name in fields and fields[name] != current[name] for name in WHAT_IT_DOES
    )
    if changes and editor != stored:
        if editor is None:
            raise Unauthorized(
                f"Cron job '{job_id}': you are not a user of this site or of "
                "the Zope root, so you may not change what it does"
            )
        return editor, True
    return stored, False


def _check_may_name(site, job_id, requested):
    if not getSecurityManager().getUser().has_role("Manager", site):
        raise Unauthorized(
            f"Cron job '{job_id}': only a Manager may make a job run as another "
            f"user ('{requested}')"
        )
    in_root, user_id = owners.split(requested)
    if in_root and not owners.may_manage_root(site):
        raise Unauthorized(
            f"Cron job '{job_id}': only someone who may manage the Zope root may "
            f"make a job run as its user '{user_id}'"
        )
    if requested and owners.find_owner(site, requested) is None:
        mapping = {"user": user_id}
        if in_root:
            text = _("user '${user}' does not exist in the Zope root", mapping=mapping)
        else:
            text = _("user '${user}' does not exist in this site", mapping=mapping)
        raise JobError(job_id, {"owner": text})


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
    invalid = engine.invalid_jobs(site)
    return [_as_dict(site, job, now, invalid) for job in read_jobs()]


def get_job(job_id):
    """The job ``job_id`` as a dict with its state."""
    site = _site(ManageJobs)
    return _as_dict(site, _existing(job_id))


def add_job(job_id, *, via=Via.API, **fields):
    """Create job ``job_id``; required fields: title, runner, schedule."""
    site = _site(ManageJobs)
    if read_job(job_id) is not None:
        raise JobError(job_id, {"id": _("a job with this id already exists")})
    fields["owner"], _changed = _owner(site, job_id, fields)
    write_job(job_id, validate(job_id, fields))
    _log_change(site, job_id, None, via)
    return get_job(job_id)


def update_job(job_id, *, via=Via.API, **fields):
    """Change some fields of job ``job_id``. Its owner stays, unless a
    Manager names another (``owner``) or someone else changes its runner or
    arguments: they become the owner, and the answer's ``owner_changed``
    says so."""
    return _update(_site(ManageJobs), job_id, fields, via)


def _update(site, job_id, fields, via, note=""):
    current = asdict(_existing(job_id))
    values = {name: current[name] for name in FIELDS}
    values.update(fields)
    values["owner"], changed = _owner(site, job_id, fields, current)
    write_job(job_id, validate(job_id, values))
    _log_change(site, job_id, current, via, note)
    return dict(get_job(job_id), owner_changed=changed)


def revert_job(job_id, *, via=Via.API):
    """Put back the values the add-on that ships job ``job_id`` gives it
    (the owner follows the owner rule). JobError if no add-on ships it."""
    site = _site(ManageJobs)
    _existing(job_id)
    state = get_crontab(site).state(job_id)
    if state is None or state.origin is None:
        raise JobError(job_id, {"origin": "no add-on profile ships this job"})
    origin = state.origin
    values = {name: value for name, value in origin.values.items() if name != "owner"}
    return _update(site, job_id, values, via, f"reverted to {origin.profile}")


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
    ``immediately``, commit and run it now, in a clean request of its own;
    returns the tick summary (None when only queued)."""
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


def check_health(now=None):
    """The crontab's health, JSON-able. Users who may manage cron jobs get
    the whole check: ``status`` ("OK" or "FAIL"), ``healthy``, ``now``,
    ``clock``, ``late``, ``invalid`` and ``problems``; anyone else (monitors
    are anonymous) gets ``status`` and ``healthy`` alone, reused for a few
    seconds per process. Anyone may ask; commits nothing."""
    site = getSite()
    if not health.may_see_details(site):
        ok = health.healthy(site)
        return {"status": "OK" if ok else "FAIL", "healthy": ok}
    return health.details(health.check(site, now))


def tick(now=None):
    """Run what is due at ``now`` (default: the current UTC time); returns
    a summary dict (keys ran, skipped, missed, lost, abandoned, invalid).
    Commits (see the module's docstring); raises
    ``collective.crontab.exceptions.NestedTick`` inside a run."""
    return engine.tick(_site(RunTick), now=now)
