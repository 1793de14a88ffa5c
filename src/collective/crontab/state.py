"""Runtime state and the run log, kept in an annotation of the site.

Layout, chosen so that concurrent ticks touching different jobs never
conflict and appending a run writes a bounded number of bytes:

- ``Crontab`` (the annotation): containers created at install time, among
  them ``handled``: for every job, the slot up to which every slot is
  handled (one BTree: the first tick after adding 10,000 jobs arms them all
  in a few buckets, and no tick reads a job's state before it is due).
- one ``JobState`` per job: the ``Lease`` of a run in progress, a summary
  of the last runs for the job list.
- per job a ``History`` BTree of ``Run`` objects keyed by start time, newest
  first, trimmed to the job's ``history`` limit.
- per job a ``ChangeLog`` (who changed which fields, how) and, for a job an
  add-on ships, an ``Origin`` (its profile and the values it ships): objects
  of their own, so that recording a run never rewrites them.
"""

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from collective.crontab.status import Status
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from enum import StrEnum
from persistent import Persistent
from zope.annotation.interfaces import IAnnotations

import copy
import secrets


ANNOTATION_KEY = "collective.crontab"
RECENT = 20
MAX_TEXT = 64 * 1024
#: A tick refreshes the stored heartbeat once it is this old (runs or not).
HEARTBEAT_INTERVAL = timedelta(minutes=4)
#: A job's change log keeps this many changes.
MAX_CHANGES = 50
#: A changed value longer than this (as text) is kept shortened.
MAX_CHANGE_VALUE = 2000


class Via(StrEnum):
    """Through what a job was changed: the ``via`` of collective.crontab.api."""

    API = "api"  # Python code
    PANEL = "panel"
    REST = "rest"
    CLI = "cli"
    IMPORT = "import"  # a profile's registry.xml
    UPGRADE = "upgrade"  # an upgrade step


class History(LOBTree):
    """Runs keyed by minus the start time in microseconds: newest first.

    An append rewrites the newest bucket, the trim the oldest, and when one
    splits or empties, its parent node: small buckets and small nodes keep
    those bytes small (docs/benchmark.rst).
    """

    max_leaf_size = 15
    max_internal_size = 16


class Run(Persistent):
    """One run (or ledger entry) of a job. Written once."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def as_dict(self):
        return {
            "slot": self.slot,
            "started": self.started,
            "finished": self.finished,
            "duration": self.duration,
            "status": Status(self.status),
            "message": self.message,
            "traceback": self.traceback,
            "client": self.client,
        }


class Lease:
    """A run in progress: the slot it runs for, when and where it started,
    until when it holds the job. ``token`` names the claim that took it (a
    claim whose commit raised finds its own lease by it). Kept inside the
    job's state; written once, by the claim."""

    def __init__(self, slot, started, client, expires, token=None):
        self.slot, self.started, self.client = slot, started, client
        self.expires = expires
        self.token = token or new_token()

    def __getstate__(self):  # no names: fewer bytes in every claim
        return (self.slot, self.started, self.client, self.expires, self.token)

    def __setstate__(self, state):
        self.slot, self.started, self.client, self.expires, self.token = state

    def held(self, now):
        """Whether the lease still holds the job at ``now``."""
        return self.expires > now

    def as_dict(self):
        return {
            "slot": self.slot,
            "started": self.started,
            "client": self.client,
            "expires": self.expires,
        }


def new_token():
    """A name for a claim: 64 random bits."""
    return secrets.token_hex(8)


class StoredRuns(Persistent):
    """The tokens of the leases of a job's last runs whose transaction
    stored something: each run adds its own in that transaction, so a run
    whose commit raised can tell whether the storage stored it. An object
    of its own that only runs write (no conflict with claims or abandons);
    runs that overlap (one outlived its lease) merge."""

    KEEP = 8
    tokens = ()

    def __getnewargs__(self):  # referenced by its oid alone: fewer bytes
        return ()

    def add(self, token):
        self.tokens = (token, *self.tokens)[: self.KEEP]

    def __contains__(self, token):
        return token in self.tokens

    def _p_resolveConflict(self, old, committed, new):
        before = old.get("tokens", ())
        added = [token for token in new.get("tokens", ()) if token not in before]
        return {"tokens": (*added, *committed.get("tokens", ()))[: self.KEEP]}


class JobState(Persistent):
    """Runtime state of one job. Never stored in the registry."""

    lease = None  # the Lease of the run in progress
    stored = None  # StoredRuns, from the job's first claim on
    last_run = None  # dict of the latest run (as Run.as_dict, no traceback)
    recent = ()  # (status code, started epoch seconds, duration), newest first
    failing = False  # a failure streak is on (its mail is sent)

    changes = None  # ChangeLog; created on the first change of older states
    origin = None  # Origin of a job an add-on ships

    def __init__(self):
        self.runs = History()
        self.count = 0
        self.changes = ChangeLog()

    def log_change(self, who, via, fields, note="", when=None):
        """Record that ``who`` changed ``fields`` ({name: (old, new)})."""
        if self.changes is None:
            self.changes = ChangeLog()
        return self.changes.append(who, via, fields, note, when)

    def change_log(self):
        """Changes as dicts, newest first."""
        return list(self.changes.entries) if self.changes is not None else []

    def append(self, limit, **values):
        """Add a run and trim the history to ``limit`` runs."""
        for name in ("message", "traceback"):
            values[name] = truncate(values.get(name) or "")
        values["status"] = str(Status(values["status"]))  # stored as plain text
        run = Run(**values)
        key = _key(values["started"])
        while key in self.runs:
            key -= 1
        self.runs[key] = run
        self.count += 1
        while self.count > limit:
            del self.runs[self.runs.maxKey()]
            self.count -= 1
        summary = dict(run.as_dict(), status=run.status, traceback="")
        status = Status(run.status)
        if status.ran:
            self.last_run = summary
        entry = (
            status.code,
            int(values["started"].timestamp()),  # whole seconds: 4 bytes fewer each
            values["duration"],
        )
        self.recent = ((entry, *tuple(self.recent)))[:RECENT]
        return run

    def find(self, slot, started, client, status=None):
        """The key of the run of ``slot`` started at ``started`` on
        ``client`` (with ``status``, if given), or None."""
        key = _key(started)
        while key in self.runs:
            run = self.runs[key]
            if (run.slot, run.started, run.client) == (slot, started, client) and (
                status is None or run.status == status
            ):
                return key
            key -= 1
        return None

    def discard(self, key):
        """Remove the run at ``key`` (an "abandoned" run that finished)."""
        run = self.runs.pop(key)
        self.count -= 1
        entry = (Status(run.status).code, int(run.started.timestamp()), run.duration)
        recent = list(self.recent)
        if entry in recent:
            recent.remove(entry)
            self.recent = tuple(recent)

    def history(self, limit=None, start=0, status=None):
        """Runs as dicts, newest first."""
        result = []
        for position, run in enumerate(self._runs(status)):
            if position < start:
                continue
            if limit is not None and len(result) >= limit:
                break
            result.append(run.as_dict())
        return result

    def size(self, status=None):
        """How many runs the history holds (with ``status``: of that status)."""
        if status is None:
            return self.count
        if len(self.recent) == self.count:  # all of them are in the strip
            return sum(1 for entry in self.recent if entry[0] == status.code)
        return sum(1 for _run in self._runs(status))

    def _runs(self, status):
        for run in self.runs.values():
            if status is None or run.status == status:
                yield run

    def clear(self):
        self.runs = History()
        self.count = 0
        self.recent = ()
        self.last_run = None


class ChangeLog(Persistent):
    """The last MAX_CHANGES changes of a job, newest first: dicts with when
    (UTC), who (user id), via (a Via, stored as text), note and fields
    (a list of {field, old, new}; old is None for a new job)."""

    entries = ()

    def append(self, who, via, fields, note="", when=None):
        entry = {
            "when": when or datetime.now(UTC),
            "who": who,
            "via": Via(via).value,  # ValueError for anything else
            "note": note,
            "fields": [
                {"field": name, "old": _bounded(old), "new": _bounded(new)}
                for name, (old, new) in fields.items()
            ],
        }
        self.entries = (entry, *self.entries)[:MAX_CHANGES]
        return entry


def changed_fields(before, after):
    """{name: (old, new)} of the fields of ``after`` that differ from
    ``before`` (None for a new job: every field)."""
    return {
        name: (before[name] if before else None, value)
        for name, value in after.items()
        if before is None or before[name] != value
    }


class Origin(Persistent):
    """The profile that ships a job and the values it ships."""

    def __init__(self, profile, values):
        self.profile = profile
        self.values = dict(values)


def _bounded(value):
    if isinstance(value, (dict, list)):
        if len(repr(value)) <= MAX_CHANGE_VALUE:
            return copy.deepcopy(value)
        value = repr(value)
    if isinstance(value, str):
        return truncate(value, MAX_CHANGE_VALUE)
    return value


class Heartbeat(Persistent):
    """When and where the last tick ran; concurrent beats keep the newest."""

    at = None
    client = ""

    def _p_resolveConflict(self, old, committed, new):
        if committed.get("at") is None:
            return new
        if new.get("at") is None or committed["at"] > new["at"]:
            return committed
        return new


class Crontab(Persistent):
    """The annotation: every container exists from install time on."""

    def __init__(self):
        self.states = OOBTree()  # job id -> JobState
        # job id -> every slot up to here is handled. The first tick that
        # sees a job enabled arms it (its time); a change of schedule, zone
        # or enabled removes the entry, and the next tick arms it again.
        self.handled = OOBTree()
        # job id -> (schedule, timezone, enabled), kept like the registry's
        # records by every change of them: the tick reads this, not the
        # 13 records of each of 10,000 jobs, to know when each one is due.
        self.schedules = OOBTree()
        # job id -> expiry (UTC) of the lease its latest claim took (None
        # after an abandon). Only claims and abandons write here, never the
        # record of a run: that touches the job's own state only, whatever
        # other jobs claim; a tick finding an expired entry reads the state.
        self.running = OOBTree()
        self.queue = OOBTree()  # job id -> requested at: "run now"
        self.version = Length()  # bumped on every change of a job's records
        self.heartbeat = Heartbeat()

    def forget(self, job_id):
        """Remove the state, the history and any queued run of ``job_id``."""
        containers = (self.states, self.handled, self.schedules, self.queue)
        for container in (*containers, self.running):
            if job_id in container:
                del container[job_id]

    def index(self, job_id, timing):
        """Keep ``timing`` (a job's TIMING values; None: it is gone) as the
        schedule of ``job_id``."""
        if timing is None:
            if job_id in self.schedules:
                del self.schedules[job_id]
        elif self.schedules.get(job_id) != timing:
            self.schedules[job_id] = timing

    def rearm(self, job_id):
        """Count the slots of ``job_id`` from the next tick on."""
        if job_id in self.handled:
            del self.handled[job_id]

    def state(self, job_id, create=False):
        state = self.states.get(job_id)
        if state is None and create:
            state = self.states[job_id] = JobState()
        return state


def _key(started):
    return -int(started.timestamp() * 1_000_000)


def truncate(text, limit=MAX_TEXT):
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"\n... [truncated, {len(text)} characters]"


def get_crontab(site, create=False):
    annotations = IAnnotations(site)
    crontab = annotations.get(ANNOTATION_KEY)
    if crontab is None and create:
        crontab = annotations[ANNOTATION_KEY] = Crontab()
    return crontab


def not_ready(crontab):
    """Why ``crontab`` (what ``get_crontab`` found) cannot be used, or None:
    the add-on is not installed, or its containers predate the upgrade steps."""
    if crontab is None:
        return "collective.crontab is not installed in this site"
    if getattr(crontab, "schedules", None) is None:
        return (
            "collective.crontab in this site needs its upgrade steps "
            "(Site Setup > Add-ons)"
        )
    return None


def remove_crontab(site):
    annotations = IAnnotations(site)
    if ANNOTATION_KEY in annotations:
        del annotations[ANNOTATION_KEY]
