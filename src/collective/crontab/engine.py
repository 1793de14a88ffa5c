"""The engine of one tick: due jobs -> claim -> run as owner -> record.

Every step runs in its own transaction. A slot is claimed by committing the
job's state before its runner starts, so of two clients (or threads) claiming
the same slot one gets a ConflictError and leaves the slot to the other.
A tick with nothing due reads cached data and writes nothing.
"""

from AccessControl.SecurityManagement import getSecurityManager
from AccessControl.SecurityManagement import newSecurityManager
from AccessControl.SecurityManagement import setSecurityManager
from Acquisition import aq_base
from collective.crontab import logger
from collective.crontab import notifications
from collective.crontab import owners
from collective.crontab import RunResult
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import NestedTick
from collective.crontab.exceptions import NotInstalled
from collective.crontab.exceptions import ScheduleError
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import job_problem
from collective.crontab.jobs import read_job
from collective.crontab.jobs import site_timezone
from collective.crontab.jobs import Timing
from collective.crontab.schedule import MAX_COUNT
from collective.crontab.schedule import Plan
from collective.crontab.schedule import Slots
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.state import HEARTBEAT_INTERVAL
from collective.crontab.state import Lease
from collective.crontab.state import new_token
from collective.crontab.state import not_ready
from collective.crontab.state import StoredRuns
from collective.crontab.status import Status
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from enum import auto
from enum import Enum
from heapq import heappop
from heapq import heappush
from io import BytesIO
from transaction.interfaces import TransientError
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary
from ZODB.POSException import ConflictError
from zope.component import queryUtility
from zope.component.hooks import getSite
from zope.component.hooks import setSite
from zope.event import notify
from zope.globalrequest import getRequest
from zope.globalrequest import setRequest
from zope.traversing.interfaces import BeforeTraverseEvent
from ZPublisher.BaseRequest import RequestContainer
from ZPublisher.HTTPRequest import HTTPRequest
from ZPublisher.HTTPResponse import HTTPResponse

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
#: Jobs armed per transaction by the first tick that sees them.
ARM_BATCH = 1000
#: Attempts at recording a run in one tick; then the next tick tries again.
RECORD_RETRIES = 10
#: Seconds: the n-th attempt at a record pauses up to n times this.
RECORD_PAUSE = 0.05
#: The time the engine reads for the start and end of runs (tests replace it).
current_time = utcnow
_running = threading.local()
#: The time a job not yet looked at can next be due: it comes first.
_UNSEEN = datetime.min.replace(tzinfo=UTC)
_caches = WeakKeyDictionary()  # ZODB DB -> {site path: _JobsCache}
_last_ticks = WeakKeyDictionary()  # ZODB DB -> {crontab oid: (now, client)}
_unrecorded = WeakKeyDictionary()  # ZODB DB -> {crontab oid: [_Record]}
_released = WeakKeyDictionary()  # ZODB DB -> {crontab oid: {job id: expiry}}


def last_tick(crontab):
    """(time, client) of the latest tick seen: by this process, or the
    heartbeat stored by any client (refreshed at least every 4 minutes)."""
    stored = (crontab.heartbeat.at, crontab.heartbeat.client)
    seen = _last_ticks.get(crontab._p_jar.db(), {}).get(crontab._p_oid)
    if stored[0] is None or (seen is not None and seen[0] > stored[0]):
        return seen or (None, "")
    return stored


class _JobsCache:
    """The Timing of every job (from the crontab's ``schedules`` index: a
    tick reads a whole job from the registry only when it is due), parsed,
    and for each the earliest time it can next be due. Valid while the
    crontab's version and site zone are the same. Another client running a
    job only makes the cached time too early, which costs one lookup, never
    a missed run.

    The enabled jobs wait in a heap ordered by that time, so a tick with
    nothing due looks at one entry, whatever the number of jobs."""

    def __init__(self, key, schedules):
        self.key = key
        self.zone = key[1]
        self.jobs = []
        self.invalid = {}
        self.next = {}
        for job_id, timing in schedules.items():
            job = Timing(job_id, *timing, site_timezone=self.zone)
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

    def broken(self, job_id, message):
        """Set job ``job_id`` aside as invalid: no tick of this cache runs it
        again (a change to any job or to the site's zone makes a new one)."""
        self.invalid[job_id] = message
        job = self.by_id.pop(job_id, None)
        if job is not None:
            self.jobs.remove(job)

    def due(self, now):
        """The enabled jobs that may be due at ``now``, earliest first. They
        stay on the heap until ``requeue`` gives them their next time: a
        tick busy with a long run hides nothing from a tick in another lane.
        An entry whose time is no longer the job's time in ``next`` is
        dropped."""
        due, seen = [], set()
        with self._lock:
            while self._waiting and self._waiting[0][0] <= now:
                at, job_id = heappop(self._waiting)
                if job_id not in self.by_id:  # set aside as broken
                    continue
                if job_id not in seen and at == self.next.get(job_id, _UNSEEN):
                    seen.add(job_id)
                    due.append((at, job_id))
            for entry in due:
                heappush(self._waiting, entry)
        return [self.by_id[job_id] for _at, job_id in due]

    def requeue(self, jobs):
        """Queue ``jobs`` at their times in ``next`` (if one has none yet,
        the next tick looks at it again)."""
        with self._lock:
            for job in jobs:
                heappush(self._waiting, (self.next.get(job.id, _UNSEEN), job.id))


def _jobs_cache(site, crontab):
    per_db = _caches.setdefault(site._p_jar.db(), {})
    path = site.getPhysicalPath()
    key = (crontab.version(), site_timezone())
    cache = per_db.get(path)
    if cache is None or cache.key != key:
        cache = per_db[path] = _JobsCache(key, crontab.schedules)
    return cache


class Summary:
    def __init__(self, now, cache):
        self.now = now
        self.data = {
            "now": now.isoformat(),
            "client": CLIENT,
            "jobs": len(cache.by_id) + len(cache.invalid),
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
    refuse_nested()
    now = now or utcnow()
    crontab = get_crontab(site)
    problem = not_ready(crontab)
    if problem is not None:
        raise NotInstalled(f"{problem} ({site.getId()})")
    cache = _jobs_cache(site, crontab)
    summary = Summary(now, cache)
    _record_unrecorded(crontab)
    released = _released.setdefault(crontab._p_jar.db(), {}).setdefault(
        crontab._p_oid, {}
    )
    for job_id, expires in list(crontab.running.items()):
        if expires is not None and expires <= now and released.get(job_id) != expires:
            with _isolated(cache, job_id, summary):
                _abandon(crontab, job_id, now, summary, released)
    for job_id in list(crontab.queue.keys()):
        with _isolated(cache, job_id, summary):
            _run_queued(site, crontab, cache, job_id, now, summary)
    due = cache.due(now)
    try:
        _arm_new(crontab, due, now)
        ready = []
        for job in due:
            with _isolated(cache, job.id, summary):
                if _has_due_slot(crontab, cache, job, now):
                    ready.append(job)
        for timing in _short_first(crontab, ready):
            with _isolated(cache, timing.id, summary):
                job = read_job(timing.id, cache.zone)
                if job is not None:
                    _tick_job(site, crontab, cache, job, now, summary)
    finally:
        cache.requeue([job for job in due if job.id in cache.by_id])
    _beat(crontab, now)
    return summary.data


@contextmanager
def _isolated(cache, job_id, summary):
    """One job's trouble stays its own: an error while handling it is
    logged and the tick goes on. A job that cannot be handled (a schedule
    that cannot be computed, any error but a conflict) is set aside as
    invalid until it or the site's zone changes."""
    try:
        yield
    except Exception as error:
        _abort()
        message = job_problem(job_id, error)
        if isinstance(error, TransientError):
            logger.warning("%s; it is tried again at the next tick", message)
            return
        log = logger.error if isinstance(error, ScheduleError) else logger.exception
        log("%s; it will not run until it is fixed", message)
        cache.broken(job_id, message)
        summary.data["invalid"][job_id] = message


def invalid_jobs(site):
    """Jobs the ticks of this process found invalid, id -> message (the
    health check and the panel show them without computing them again)."""
    cache = _caches.get(site._p_jar.db(), {}).get(site.getPhysicalPath())
    crontab = get_crontab(site)
    if cache is None or crontab is None:
        return {}
    if cache.key != (crontab.version(), site_timezone()):
        return {}
    return dict(cache.invalid)


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


def _has_due_slot(crontab, cache, job, now):
    """True if a slot of ``job`` is due at ``now``; else the cache learns
    when one can next be. Reads ``crontab.handled`` only, never the job's
    state: the jobs that are not due cost one BTree lookup each."""
    last = crontab.handled.get(job.id)
    if last is None:  # its arming batch kept conflicting: the next tick arms it
        return False
    first = job.cron.next_after(last)
    if first > now:
        cache.next[job.id] = first
        return False
    return True


def _tick_job(site, crontab, cache, job, now, summary):
    claim = _claim(crontab, job, now, summary)
    if claim.kind is ClaimKind.CLAIMED:
        (slot,) = claim.plan.run
        _run(site, crontab, job, slot, claim.lease, summary, claim.plan.stands_for)
    if claim.plan.last is not None:
        cache.next[job.id] = job.cron.next_after(claim.plan.last)


def _arm_new(crontab, jobs, now):
    """Arm the jobs no tick has seen yet: their first slot is after ``now``.
    ``ARM_BATCH`` per transaction, written into ``crontab.handled`` alone
    (a batch that keeps conflicting is left to the next tick)."""
    new = [job.id for job in jobs if job.id not in crontab.handled]
    for start in range(0, len(new), ARM_BATCH):
        batch = new[start : start + ARM_BATCH]

        def arm(batch=batch):
            for job_id in batch:
                crontab.handled.setdefault(job_id, now)
            return True

        _write(arm)


def _short_first(crontab, jobs):
    """``jobs`` with those known to be long (the median of their last three
    runs) after the short ones: a long run does not hold the others of the
    same tick."""

    def typical(job):
        state = crontab.state(job.id)
        durations = sorted(
            duration
            for code, _started, duration in (state.recent if state else ())[:3]
            if Status.from_code(code).ran
        )
        return durations[len(durations) // 2] if durations else 0

    return sorted(jobs, key=typical)


def _write(change, attempts=CONFLICT_RETRIES):
    """Run ``change`` in a fresh transaction and commit it, retrying on
    conflicts after a short random pause (clients that collided must not
    collide again in step). Returns what ``change`` returned, or None if it
    kept conflicting. Other errors of the storage (a ZEO server restarted,
    the database of RelStorage away) are retried alike, then raised."""
    for attempt in range(attempts):
        try:
            transaction.commit()  # start from what other clients committed
            result = change()
            transaction.commit()
        except ConflictError:
            _abort()
        except Exception as error:
            _abort()
            if attempt == attempts - 1:
                raise
            logger.warning(
                "Retrying a transaction of the tick: %s: %s",
                type(error).__name__,
                error,
            )
        else:
            return result
        pause = random.uniform(0, 0.02 * (attempt + 1))  # noqa: S311
        time.sleep(pause)
    return None


class ClaimKind(Enum):
    """What the claim of a job's due slots came to."""

    LOST = auto()  # another client handled them first: nothing is written
    SKIPPED = auto()  # the job's previous run still holds its lease
    MISSED = auto()  # too late for the catch-up policy
    CLAIMED = auto()  # the lease is taken: run the job


@dataclass(frozen=True)
class Claim:
    """What ``_claim`` returns: its kind, the plan of the due slots."""

    kind: ClaimKind
    plan: Plan
    lease: Lease | None = None  # CLAIMED: the lease to run under
    holder: tuple = (None, None)  # LOST: (client, slot) of the latest run


@dataclass(frozen=True)
class Outcome:
    """How a run ended, on its way into the log."""

    status: Status
    message: str
    traceback: str
    started: datetime
    finished: datetime

    @property
    def duration(self):
        return (self.finished - self.started).total_seconds()


def _claim(crontab, job, now, summary):  # noqa: C901
    """Plan the due slots from the job's state as committed now, mark them
    handled and take the lease, in one transaction: of two clients claiming
    the same slots one gets a ConflictError, retries, and finds them gone.
    An attempt whose commit raised but was stored is found by its lease's
    token: the retry takes that claim as it is.

    Returns a Claim: CLAIMED with the lease to run under; LOST if another
    client handled the slots first (nothing is written, it is no error);
    SKIPPED if the job is still running; MISSED."""
    token = new_token()
    planned = Plan()

    def claim():
        nonlocal planned
        state = crontab.state(job.id, create=True)
        if _own_lease(state, token) is not None:
            return Claim(ClaimKind.CLAIMED, planned, state.lease)
        last = crontab.handled.get(job.id, now)
        plan = planned = job.cron.plan(last, now, job.catch_up)
        if plan.last is None:
            return Claim(ClaimKind.LOST, plan, holder=_holder(state))
        held = state.lease is not None and state.lease.held(now)
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
        lease = state.lease
        if lease is not None:
            if held:
                crontab.handled[job.id] = plan.last
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
                        f"the run of {lease.slot.isoformat()} on {lease.client} "
                        "is still going",
                    )
                return Claim(ClaimKind.SKIPPED, plan)
            _abandon_lease(crontab, job.id, state, job.history)
        crontab.handled[job.id] = plan.last
        if not plan.run:
            return Claim(ClaimKind.MISSED, plan)
        if plan.skipped:
            _ledger(
                state,
                job,
                plan.skipped,
                Status.SKIPPED,
                f"coalesced into the run for {plan.run[0].isoformat()}",
            )
        lease = _take_lease(crontab, state, job, plan.run[0], now, token)
        return Claim(ClaimKind.CLAIMED, plan, lease)

    taken = _write(claim) or Claim(ClaimKind.LOST, Plan())
    plan = taken.plan
    if taken.kind is ClaimKind.LOST:
        winner, slot = taken.holder
        logger.info(
            "Cron job '%s': lost the race for its due slots to %s",
            job.id,
            winner or "another client",
        )
        summary.add("lost", job.id, slot, to=winner)
    elif taken.kind is ClaimKind.SKIPPED and plan.run:
        summary.add(Status.SKIPPED, job.id, plan.run[0])
    elif plan.skipped and taken.kind is ClaimKind.CLAIMED:
        summary.add(Status.SKIPPED, job.id, plan.skipped.first, **_range(plan.skipped))
    if plan.missed:
        summary.add(Status.MISSED, job.id, plan.missed.first, **_range(plan.missed))
    return taken


def _take_lease(crontab, state, job, slot, now, token):
    """Hold ``job`` for its run of ``slot`` until its maximum run time is
    over; ``token`` names the claim."""
    expires = now + timedelta(seconds=job.max_runtime)
    state.lease = Lease(slot, current_time(), CLIENT, expires, token)
    if state.stored is None:
        state.stored = StoredRuns()
    crontab.running[job.id] = expires
    return state.lease


def _own_lease(state, token):
    """The lease ``state`` holds if the claim named ``token`` took it."""
    lease = state.lease if state is not None else None
    return lease if lease is not None and lease.token == token else None


def _range(slots):
    return {"last": slots.last.isoformat(), "count": slots.count}


def _holder(state):
    """(client, slot) of the job's latest run: who won the race."""
    if state.lease is not None:
        return state.lease.client, state.lease.slot
    latest = state.last_run or {}
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
    outcome = Outcome(status, message, "", started, started)
    _log(state, job.history, slots.first, outcome)


def _log(state, limit, slot, outcome, client=CLIENT):
    """Append the run of ``slot`` that ended as ``outcome`` on ``client``
    to the job's log, trimmed to ``limit`` runs."""
    return state.append(
        limit,
        slot=slot,
        started=outcome.started,
        finished=outcome.finished,
        duration=outcome.duration,
        status=outcome.status,
        message=outcome.message,
        traceback=outcome.traceback,
        client=client,
    )


def _run(site, crontab, job, slot, lease, summary, slots=None):
    """Run ``job`` for ``slot`` under the ``lease`` its claim took, and
    record the run."""
    stored = crontab.state(job.id).stored
    outcome = _execute(site, job, slot, stored, lease.token, slots)
    _record(crontab, job, slot, outcome, summary, lease)


def _execute(site, job, slot, stored, token, slots=None):
    """Run the job's runner as its owner in its own transaction, standing
    for ``slots`` (default: ``slot`` alone), under the lease named
    ``token``; return its Outcome."""
    _running.slot = slot
    _running.slots = slots or Slots(slot, slot)
    try:
        return _attempt(site, job, slot, stored, token)
    finally:
        _running.slot = _running.slots = None


def _attempt(site, job, slot, stored, token):
    """The run's transaction, if it stores anything, adds the ``token`` of
    its lease to the job's ``stored`` runs: a commit that raised although
    the storage stored it (a ZEO client that lost its server during the
    commit) is a run that happened. An empty commit writes nothing (and
    cannot raise after storing)."""
    started = current_time()
    status, message, trace = Status.FAILURE, "", ""
    notifications.ping(job, "start")
    for attempt in range(1, CONFLICT_RETRIES + 1):
        ran = None  # (status, message) once the runner returned
        try:
            runner = queryUtility(ICronRunner, name=job.runner)
            if runner is None:
                raise JobError(
                    job.id, {"runner": f"'{job.runner}' is not a registered runner"}
                )
            with clean_request(site) as fresh, run_as(fresh, job.owner):
                result = runner(fresh, job)
            ran = _outcome(result)
            txn = transaction.get()
            txn.note(f"collective.crontab: {job.id} ({slot.isoformat()})")
            if txn._resources:  # it stores something: note that it did
                stored.add(token)
            transaction.commit()
            (status, message), trace = ran, ""
            break
        except ConflictError:
            _abort()
            status = Status.FAILURE
            message = f"Gave up after {attempt} conflicting attempts"
            trace = traceback.format_exc()
        except Exception as error:
            trace = traceback.format_exc()
            _abort()
            raised = f"{type(error).__name__}: {error}"
            if ran is not None and _was_stored(stored, token):
                (status, message), trace = ran, ""
                note = f"its commit raised {raised}, but it was stored"
                message = _lines(message, note)
                logger.warning("Cron job '%s': %s", job.id, message)
                break
            status, message = Status.FAILURE, raised
            logger.warning("Cron job '%s' failed: %s", job.id, message)
            break
    outcome = Outcome(status, message, trace, started, current_time())
    if outcome.duration > job.max_runtime and status.succeeded:
        limit = f"ran {_span(outcome.duration)}, limit {_span(job.max_runtime)}"
        message = _lines(message, limit)
        outcome = replace(outcome, status=Status.WARNING, message=message)
    return outcome


def _lines(*texts):
    return "\n".join(text for text in texts if text)


def _was_stored(stored, token, attempts=RECORD_RETRIES):
    """Whether the run of the lease named ``token`` was stored although its
    commit raised: read in fresh transactions, retrying what the storage
    raises (False if it keeps raising)."""
    for attempt in range(attempts):
        try:
            _abort()
            return token in stored
        except Exception as error:
            logger.warning(
                "Reading whether a run was stored: %s: %s (attempt %d)",
                type(error).__name__,
                error,
                attempt + 1,
            )
            time.sleep(random.uniform(0, RECORD_PAUSE * (attempt + 1)))  # noqa: S311
    return False


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
    (a run that outlived its lease must not release the next run's).

    A run that happened is never lost: any error is retried in a fresh
    transaction, and a record that still cannot be written is kept in
    memory and written by the next tick of this process."""
    record = _Record(job.id, job.history, slot, outcome, lease)
    if not record.write(crontab):
        _unrecorded_runs(crontab).append(record)
        logger.error(
            "Cron job '%s': the run of %s (%s) could not be recorded yet; "
            "it is kept in memory and written at the next tick of this process",
            job.id,
            slot.isoformat(),
            outcome.status,
        )
    summary.add(
        "ran", job.id, slot, status=outcome.status, message=outcome.message[:200]
    )


class _Record:
    """A finished run on its way into the log."""

    def __init__(self, job_id, limit, slot, outcome, lease):
        self.job_id, self.limit, self.slot, self.lease = job_id, limit, slot, lease
        self.outcome = outcome

    def write(self, crontab, attempts=RECORD_RETRIES):
        """Commit the record, retrying whatever the storage raises. True
        once it is in the log (also if a commit that raised went through)."""
        for attempt in range(attempts):
            try:
                _abort()
                self.change(crontab)
                transaction.commit()
                return True
            except Exception as error:
                _abort()
                if not isinstance(error, ConflictError):
                    logger.warning(
                        "Cron job '%s': recording the run of %s: %s: %s (attempt %d)",
                        self.job_id,
                        self.slot.isoformat(),
                        type(error).__name__,
                        error,
                        attempt + 1,
                    )
                pause = random.uniform(0, RECORD_PAUSE * (attempt + 1))  # noqa: S311
                time.sleep(pause)
        return False

    def change(self, crontab):
        """Write the run into the job's own state, and nothing else."""
        outcome = self.outcome
        state = crontab.state(self.job_id, create=True)
        if state.find(self.slot, outcome.started, CLIENT, outcome.status) is not None:
            return  # an earlier commit raised, but it was stored
        lease = self.lease
        if lease is not None:
            taken_for_dead = state.find(
                lease.slot, lease.started, lease.client, Status.ABANDONED
            )
            if taken_for_dead is not None:
                state.discard(taken_for_dead)
        _log(state, self.limit, self.slot, outcome)
        notifications.run_recorded(self.job_id, state)
        if lease is not None and _own_lease(state, lease.token) is not None:
            state.lease = None


def _unrecorded_runs(crontab):
    """This process's runs of ``crontab`` that wait to be recorded."""
    per_db = _unrecorded.setdefault(crontab._p_jar.db(), {})
    return per_db.setdefault(crontab._p_oid, [])


def _record_unrecorded(crontab):
    """Write the runs that earlier ticks of this process could not record."""
    waiting = _unrecorded_runs(crontab)
    while waiting:
        try:
            record = waiting.pop(0)
        except IndexError:  # another lane took it
            return
        if not record.write(crontab, attempts=CONFLICT_RETRIES):
            waiting.append(record)
            return
        logger.info(
            "Cron job '%s': the run of %s is recorded now",
            record.job_id,
            record.slot.isoformat(),
        )


def _abort():
    """Abort the transaction. An abort that raises (RelStorage polls the
    database when a transaction ends) is logged: it leaves a fresh
    transaction all the same, and the next one polls again."""
    try:
        transaction.abort()
    except Exception as error:
        logger.warning(
            "Aborting a transaction failed: %s: %s", type(error).__name__, error
        )


def _abandon(crontab, job_id, now, summary, released):
    """The lease noted in ``running`` for ``job_id`` expired: record its run
    as abandoned if it is still held. A lease its run released (the record
    of a run leaves ``running`` alone) goes into ``released``: this process
    does not look at it again."""
    job = read_job(job_id)
    limit = job.history if job is not None else 100

    def abandon():
        state = crontab.state(job_id)
        expires = crontab.running.get(job_id)
        if expires is None or expires > now:
            return None
        lease = state.lease if state is not None else None
        if lease is None or lease.held(now):
            return expires, False
        _abandon_lease(crontab, job_id, state, limit)
        return expires, True

    expires, abandoned = _write(abandon) or (None, False)
    if abandoned:
        summary.add(Status.ABANDONED, job_id)
    elif expires is not None:
        released[job_id] = expires


def _abandon_lease(crontab, job_id, state, limit):
    lease = state.lease
    message = (
        f"Abandoned: the run started on {lease.client} did not finish within "
        "its maximum run time; its process probably died"
    )
    outcome = Outcome(Status.ABANDONED, message, "", lease.started, lease.expires)
    _log(state, limit, lease.slot, outcome, lease.client)
    notifications.run_recorded(job_id, state)
    state.lease = None
    if job_id in crontab.running:
        crontab.running[job_id] = None


def _run_queued(site, crontab, cache, job_id, now, summary):
    job = read_job(job_id, cache.zone) if job_id in cache.by_id else None
    token = new_token()

    def take():
        own = _own_lease(crontab.state(job_id), token)
        if own is not None:
            return own  # an earlier attempt's commit raised, but it was stored
        if job_id not in crontab.queue:
            return None
        state = crontab.state(job_id, create=True)
        if job is not None and state.lease is not None:
            return None  # still running: stays queued
        del crontab.queue[job_id]
        if job is None:
            return None
        return _take_lease(crontab, state, job, now, now, token)

    lease = _write(take)
    if lease is not None:
        _run(site, crontab, job, now, lease, summary)


def run_queued_now(site, job_id, now=None):
    """Run the queued job ``job_id`` now, as a tick would."""
    refuse_nested()
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
def run_as(site, owner):
    """Run the block with the rights of ``owner`` (a job's owner value,
    looked up only in its own user folder; empty: anonymous rights)."""
    user = owners.find_owner(site, owner)
    if user is None:
        in_root, user_id = owners.split(owner)
        where = "the Zope root" if in_root else "the site"
        raise LookupError(
            f"The job's owner '{user_id}' does not exist in the user folder of {where}"
        )
    previous = getSecurityManager()
    request = getRequest()
    newSecurityManager(request, user)
    if request is not None:
        request["AUTHENTICATED_USER"] = user
    try:
        yield
    finally:
        setSecurityManager(previous)


@contextmanager
def clean_request(site):
    """Yield ``site`` in a fresh request built like the clock's (no form,
    no cookies, none of the caller's headers), the global request and site
    while the block runs. Whatever the run does to the request or its
    response stays there: the caller's request is untouched."""
    caller = getRequest()
    url = urlsplit(caller.get("SERVER_URL", "") if caller is not None else "")
    scheme, host = url.scheme or "http", url.netloc or "localhost"
    name, _sep, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/".join(site.getPhysicalPath()),
        "QUERY_STRING": "",
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "collective.crontab",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": scheme,
    }
    if scheme == "https":
        environ["HTTPS"] = "on"
    request = HTTPRequest(BytesIO(), environ, HTTPResponse(stdout=BytesIO()))
    request.processInputs()
    root = aq_base(site.getPhysicalRoot()).__of__(RequestContainer(REQUEST=request))
    fresh = root.unrestrictedTraverse(site.getPhysicalPath()[1:])
    request["PARENTS"] = [fresh, root]
    previous_site = getSite()
    setRequest(request)
    try:
        notify(BeforeTraverseEvent(fresh, request))  # the site hook and layers
        yield fresh
    finally:
        setRequest(caller)
        setSite(previous_site)


def refuse_nested():
    """Raise NestedTick inside a run: a tick there would commit the
    running job's half-done transaction."""
    if running_slot() is not None:
        raise NestedTick(
            "A cron job may not start a tick or run another job: it is itself "
            "running (refused to keep its transaction whole)"
        )
