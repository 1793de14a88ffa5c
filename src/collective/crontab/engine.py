"""The engine of one tick: due jobs -> claim -> run as owner -> record.

Every step runs in its own transaction. A slot is claimed by committing the
job's state before its runner starts, so of two clients (or threads) claiming
the same slot one gets a ConflictError and leaves the slot to the other.
A tick with nothing due reads cached data and writes nothing.
"""

from AccessControl.SecurityManagement import getSecurityManager
from AccessControl.SecurityManagement import newSecurityManager
from AccessControl.SecurityManagement import setSecurityManager
from collective.crontab import logger
from collective.crontab import notifications
from collective.crontab import RunResult
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import NotInstalled
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import read_jobs
from collective.crontab.jobs import site_timezone
from collective.crontab.schedule import MAX_COUNT
from collective.crontab.schedule import Plan
from collective.crontab.schedule import Slots
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.state import HEARTBEAT_INTERVAL
from collective.crontab.status import Status
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from heapq import heappop
from heapq import heappush
from weakref import WeakKeyDictionary
from ZODB.POSException import ConflictError
from zope.component import queryUtility
from zope.globalrequest import getRequest

import os
import random
import socket
import threading
import time
import traceback
import transaction


#: Name of this process in the run log (several ZEO clients tick one site).
CLIENT = os.environ.get("CRONTAB_CLIENT", f"{socket.gethostname()}:{os.getpid()}")
#: Attempts at a transaction that meets ConflictErrors.
CONFLICT_RETRIES = 3
#: Attempts at recording a run: a run that happened must not go unlogged.
RECORD_RETRIES = 10
#: The time the engine reads for the start and end of runs (tests replace it).
current_time = utcnow
_running = threading.local()
#: The time a job not yet looked at can next be due: it comes first.
_UNSEEN = datetime.min.replace(tzinfo=UTC)
_caches = WeakKeyDictionary()  # ZODB DB -> {site path: _JobsCache}
_last_ticks = WeakKeyDictionary()  # ZODB DB -> {crontab oid: (now, client)}


def last_tick(crontab):
    """(time, client) of the latest tick seen: by this process, or the
    heartbeat stored by any client (refreshed at least every 4 minutes)."""
    stored = (crontab.heartbeat.at, crontab.heartbeat.client)
    seen = _last_ticks.get(crontab._p_jar.db(), {}).get(crontab._p_oid)
    if stored[0] is None or (seen is not None and seen[0] > stored[0]):
        return seen or (None, "")
    return stored


class _JobsCache:
    """Jobs parsed from the registry, and for each the earliest time it can
    next be due. Valid while the crontab's version and site zone are the same.
    Another client running a job only makes the cached time too early, which
    costs one state read, never a missed run.

    The enabled jobs wait in a heap ordered by that time, so a tick with
    nothing due looks at one entry, whatever the number of jobs."""

    def __init__(self, key):
        self.key = key
        self.jobs = []
        self.invalid = {}
        self.next = {}
        for job in read_jobs():
            try:
                job.cron  # noqa: B018 -- parses and validates the schedule
            except JobError as error:
                self.invalid[job.id] = str(error)
                logger.error("%s: it will not run until it is fixed", error)
                continue
            self.jobs.append(job)
        self.by_id = {job.id: job for job in self.jobs}
        self._waiting = [(_UNSEEN, job.id) for job in self.jobs if job.enabled]
        self._lock = threading.Lock()

    def due(self, now):
        """Take the enabled jobs that may be due at ``now`` off the heap,
        earliest first; give them back with ``requeue``."""
        due = []
        with self._lock:
            while self._waiting and self._waiting[0][0] <= now:
                due.append(self.by_id[heappop(self._waiting)[1]])
        return due

    def requeue(self, jobs):
        """Put ``jobs`` back, each at its time in ``next`` (if it has none
        yet, the next tick looks at it again)."""
        with self._lock:
            for job in jobs:
                heappush(self._waiting, (self.next.get(job.id, _UNSEEN), job.id))


def _jobs_cache(site, crontab):
    per_db = _caches.setdefault(site._p_jar.db(), {})
    path = site.getPhysicalPath()
    key = (crontab.version(), site_timezone())
    cache = per_db.get(path)
    if cache is None or cache.key != key:
        cache = per_db[path] = _JobsCache(key)
    return cache


class Summary:
    def __init__(self, now, cache):
        self.now = now
        self.data = {
            "now": now.isoformat(),
            "client": CLIENT,
            "jobs": len(cache.jobs) + len(cache.invalid),
            "ran": [],
            Status.SKIPPED: [],
            Status.MISSED: [],
            "lost": [],
            Status.ABANDONED: [],
            "invalid": dict(cache.invalid),
        }

    def add(self, kind, job_id, slot=None, **extra):
        entry = {"job": job_id}
        if slot is not None:
            entry["slot"] = slot.isoformat()
        entry.update(extra)
        self.data[kind].append(entry)


def tick(site, now=None):
    """Run what is due in ``site`` at ``now`` (aware; default: the time now).

    Returns a JSON-able summary. Raises NotInstalled without the add-on.
    """
    now = now or utcnow()
    crontab = get_crontab(site)
    if crontab is None:
        raise NotInstalled(f"collective.crontab is not installed in {site.getId()}")
    cache = _jobs_cache(site, crontab)
    summary = Summary(now, cache)
    for job_id, expires in list(crontab.running.items()):
        if expires is not None and expires <= now:
            _abandon(crontab, cache, job_id, now, summary)
    for job_id in list(crontab.queue.keys()):
        _run_queued(site, crontab, cache, job_id, now, summary)
    due = cache.due(now)
    try:
        for job in due:
            _tick_job(site, crontab, cache, job, now, summary)
    finally:
        cache.requeue(due)
    _beat(crontab, now)
    return summary.data


def running_slot():
    """The slot of the run in progress in this thread (aware UTC), or None:
    a runner that needs to know which slot it stands for asks here."""
    return getattr(_running, "slot", None)


def running_slots():
    """The slots the run in progress in this thread stands for, or None:
    a Slots(first, last, count) whose ``last`` is ``running_slot()``. A tick
    runs a job once for its latest due slot; a runner that processes
    "everything since the last run" reads the earlier ones here."""
    return getattr(_running, "slots", None)


def _tick_job(site, crontab, cache, job, now, summary):
    state = crontab.state(job.id)
    if state is None or state.last is None:
        # First tick to see the job enabled: its first slot is after `now`.
        _write(lambda: _arm(crontab, job.id, now))
        cache.next[job.id] = job.cron.next_after(now)
        return
    first = job.cron.next_after(state.last)
    if first > now:
        cache.next[job.id] = first
        return
    plan, lease = _claim(crontab, job, now, summary)
    if lease is not None:
        (slot,) = plan.run
        outcome = _execute(site, job, slot, plan.stands_for)
        _record(crontab, job, slot, outcome, summary, lease)
    if plan.last is not None:
        cache.next[job.id] = job.cron.next_after(plan.last)


def _arm(crontab, job_id, now):
    state = crontab.state(job_id, create=True)
    if state.last is None:
        state.last = now


def _write(change, attempts=CONFLICT_RETRIES):
    """Run ``change`` in a fresh transaction and commit it, retrying on
    conflicts after a short random pause (clients that collided must not
    collide again in step). Returns what ``change`` returned, or None if it
    kept conflicting."""
    for attempt in range(attempts):
        transaction.commit()  # start from what other clients committed
        try:
            result = change()
            transaction.commit()
        except ConflictError:
            transaction.abort()
            pause = random.uniform(0, 0.02 * (attempt + 1))  # noqa: S311
            time.sleep(pause)
            continue
        return result
    return None


def _claim(crontab, job, now, summary):  # noqa: C901
    """Plan the due slots from the job's state as committed now, mark them
    handled and take the lease, in one transaction: of two clients claiming
    the same slots one gets a ConflictError, retries, and finds them gone.

    Returns (plan, lease); lease is None if there is nothing to run: another
    client handled the slots first (lost: nothing is written, it is no
    error), the job is still running (skipped) or they were missed."""

    def claim():
        state = crontab.state(job.id, create=True)
        plan = job.cron.plan(state.last or now, now, job.catch_up)
        if plan.last is None:
            return "lost", plan, None, _holder(state)
        held = state.lease is not None and state.lease["expires"] > now
        if plan.missed:
            stands = plan.run and not held and job.catch_up == "once"
            _ledger(
                state,
                job,
                plan.missed,
                Status.MISSED,
                f"more than 5 minutes late; catch-up policy '{job.catch_up}'"
                + (
                    f", the run for {plan.run[0].isoformat()} stands for them"
                    if stands
                    else ""
                ),
            )
        if state.lease is not None:
            if held:
                state.last = plan.last
                if plan.run:
                    skipped = plan.skipped
                    _ledger(
                        state,
                        job,
                        Slots(
                            skipped.first if skipped else plan.run[0],
                            plan.run[0],
                            (skipped.count if skipped else 0) + 1,
                        ),
                        Status.SKIPPED,
                        "the run of {} on {} is still going".format(
                            state.lease["slot"].isoformat(), state.lease["client"]
                        ),
                    )
                return Status.SKIPPED, plan, None, None
            _abandon_lease(crontab, job.id, state, job.history)
        state.last = plan.last
        if not plan.run:
            return Status.MISSED, plan, None, None
        if plan.skipped:
            _ledger(
                state,
                job,
                plan.skipped,
                Status.SKIPPED,
                f"coalesced into the run for {plan.run[0].isoformat()}",
            )
        expires = now + timedelta(seconds=job.max_runtime)
        lease = {
            "slot": plan.run[0],
            "started": current_time(),
            "client": CLIENT,
            "expires": expires,
        }
        state.lease = lease
        crontab.running[job.id] = expires
        return "claimed", plan, dict(lease), None

    result, plan, lease, holder = _write(claim) or ("lost", Plan(), None, (None, None))
    if result == "lost":
        winner, slot = holder
        logger.info(
            "Cron job '%s': lost the race for its due slots to %s",
            job.id,
            winner or "another client",
        )
        summary.add("lost", job.id, slot, to=winner)
    elif result == Status.SKIPPED and plan.run:
        summary.add(Status.SKIPPED, job.id, plan.run[0])
    elif plan.skipped and result == "claimed":
        summary.add(Status.SKIPPED, job.id, plan.skipped.first, **_range(plan.skipped))
    if plan.missed:
        summary.add(Status.MISSED, job.id, plan.missed.first, **_range(plan.missed))
    return plan, lease


def _range(slots):
    return {"last": slots.last.isoformat(), "count": slots.count}


def _holder(state):
    """(client, slot) of the job's latest run: who won the race."""
    latest = state.lease or state.last_run or {}
    return latest.get("client"), latest.get("slot")


def _ledger(state, job, slots, status, reason):
    """One ledger entry for the range ``slots``: "Missed 4 slots from ...
    to ... <reason>"."""
    started = current_time()
    if slots.count == 1:
        what = f"the slot {slots.first.isoformat()}"
    else:
        what = "{}{} slots from {} to {}".format(
            "at least " if slots.count >= MAX_COUNT else "",
            slots.count,
            slots.first.isoformat(),
            slots.last.isoformat(),
        )
    message = f"{status.capitalize()} {what}: {reason}"
    state.append(
        job.history,
        slot=slots.first,
        started=started,
        finished=started,
        duration=0.0,
        status=status,
        message=message,
        traceback="",
        client=CLIENT,
    )


def _execute(site, job, slot, slots=None):
    """Run the job's runner as its owner in its own transaction, standing
    for ``slots`` (default: ``slot`` alone); return (status, message,
    traceback, started, finished)."""
    _running.slot = slot
    _running.slots = slots or Slots(slot, slot)
    try:
        return _attempt(site, job, slot)
    finally:
        _running.slot = _running.slots = None


def _attempt(site, job, slot):
    started = current_time()
    status, message, trace = Status.FAILURE, "", ""
    notifications.ping(job, "start")
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            runner = queryUtility(ICronRunner, name=job.runner)
            if runner is None:
                raise JobError(
                    job.id, {"runner": f"'{job.runner}' is not a registered runner"}
                )
            with run_as(site, job.owner):
                result = runner(site, job)
            transaction.get().note(f"collective.crontab: {job.id} ({slot.isoformat()})")
            transaction.commit()
            status, message = _outcome(result)
            trace = ""
            break
        except ConflictError:
            transaction.abort()
            status = Status.FAILURE
            message = f"Gave up after {attempt} conflicting attempts"
            trace = traceback.format_exc()
        except Exception as error:
            transaction.abort()
            status, trace = Status.FAILURE, traceback.format_exc()
            message = f"{type(error).__name__}: {error}"
            logger.warning("Cron job '%s' failed: %s", job.id, message)
            break
    finished = current_time()
    duration = (finished - started).total_seconds()
    if duration > job.max_runtime and status.succeeded:
        status = Status.WARNING
        message = (
            f"{message}\n" if message else ""
        ) + f"ran {_span(duration)}, limit {_span(job.max_runtime)}"
    notifications.ping(job, status)
    return status, message, trace, started, finished


def _outcome(result):
    if result is None:
        return Status.SUCCESS, ""
    if isinstance(result, RunResult):
        return result.status, result.message
    return Status.SUCCESS, str(result)


def _span(seconds):
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
    return f"{seconds}s"


def _record(crontab, job, slot, outcome, summary, lease=None):
    """Log the run; with ``lease``, release it if it is still this run's
    (a run that outlived its lease must not release the next run's)."""
    status, message, trace, started, finished = outcome

    def record():
        state = crontab.state(job.id, create=True)
        state.append(
            job.history,
            slot=slot,
            started=started,
            finished=finished,
            duration=(finished - started).total_seconds(),
            status=status,
            message=message,
            traceback=trace,
            client=CLIENT,
        )
        notifications.run_recorded(job.id, state)
        if lease is not None and state.lease == lease:
            state.lease = None
            if crontab.running.get(job.id) == lease["expires"]:
                crontab.running[job.id] = None
        return True

    if _write(record, attempts=RECORD_RETRIES) is None:
        logger.error(
            "Cron job '%s': the run of %s (%s) could not be recorded after %d "
            "conflicting attempts; its lease will expire as abandoned",
            job.id,
            slot.isoformat(),
            status,
            RECORD_RETRIES,
        )
    summary.add("ran", job.id, slot, status=status, message=message[:200])


def _abandon(crontab, cache, job_id, now, summary):
    job = cache.by_id.get(job_id)
    limit = job.history if job is not None else 100

    def abandon():
        state = crontab.state(job_id)
        expires = crontab.running.get(job_id)
        if expires is None or expires > now:
            return False
        if state is not None and state.lease is not None:
            _abandon_lease(crontab, job_id, state, limit)
        else:
            crontab.running[job_id] = None
        return True

    if _write(abandon):
        summary.add(Status.ABANDONED, job_id)


def _abandon_lease(crontab, job_id, state, limit):
    lease = state.lease
    state.append(
        limit,
        slot=lease["slot"],
        started=lease["started"],
        finished=lease["expires"],
        duration=(lease["expires"] - lease["started"]).total_seconds(),
        status=Status.ABANDONED,
        traceback="",
        client=lease["client"],
        message="Abandoned: the run started on {} did not finish within its "
        "maximum run time; its process probably died".format(lease["client"]),
    )
    notifications.run_recorded(job_id, state)
    state.lease = None
    if job_id in crontab.running:
        crontab.running[job_id] = None


def _run_queued(site, crontab, cache, job_id, now, summary):
    job = cache.by_id.get(job_id)

    def take():
        if job_id not in crontab.queue:
            return False
        state = crontab.state(job_id, create=True)
        if job is not None and state.lease is not None:
            return False  # still running: stays queued
        del crontab.queue[job_id]
        if job is None:
            return False
        expires = now + timedelta(seconds=job.max_runtime)
        state.lease = {
            "slot": now,
            "started": current_time(),
            "client": CLIENT,
            "expires": expires,
        }
        crontab.running[job_id] = expires
        return dict(state.lease)

    lease = _write(take)
    if lease:
        outcome = _execute(site, job, now)
        _record(crontab, job, now, outcome, summary, lease)


def run_queued_now(site, job_id, now=None):
    """Run the queued job ``job_id`` in this request, as a tick would."""
    now = now or utcnow()
    crontab = get_crontab(site)
    cache = _jobs_cache(site, crontab)
    summary = Summary(now, cache)
    _run_queued(site, crontab, cache, job_id, now, summary)
    return summary.data


def _beat(crontab, now):
    heartbeat = crontab.heartbeat
    _last_ticks.setdefault(crontab._p_jar.db(), {})[crontab._p_oid] = (now, CLIENT)
    if heartbeat.at is not None and now - heartbeat.at < HEARTBEAT_INTERVAL:
        return

    def beat():
        crontab.heartbeat.at = now
        crontab.heartbeat.client = CLIENT

    _write(beat)


@contextmanager
def run_as(site, user_id):
    """Run the block with the rights of ``user_id`` (empty: the current user)."""
    if not user_id:
        yield
        return
    user = find_user(site, user_id)
    if user is None:
        raise LookupError(f"The job's owner '{user_id}' does not exist")
    previous = getSecurityManager()
    newSecurityManager(getRequest(), user)
    try:
        yield
    finally:
        setSecurityManager(previous)


def find_user(site, user_id):
    """The user ``user_id`` of the site, else of the Zope root, wrapped."""
    for folder in (site.acl_users, site.getPhysicalRoot().acl_users):
        user = folder.getUserById(user_id)
        if user is not None:
            return user.__of__(folder)
    return None
