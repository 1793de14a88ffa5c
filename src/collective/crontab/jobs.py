"""Cron jobs as plone.registry records: read, validate, write.

A job is the group of records ``collective.crontab.jobs/<job-id>.<field>`` of
the ICronJob schema, so any add-on can ship jobs in its own registry.xml.
"""

from collective.crontab import _
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import ScheduleError
from collective.crontab.exceptions import Text
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import ICronRunner
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.schedule import normalize
from collective.crontab.schedule import schedule_for
from collective.crontab.schedule import validate_timezone
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from plone.registry.interfaces import IRegistry
from urllib.parse import urlsplit
from zope.component import getUtility
from zope.component import queryUtility
from zope.schema import getFieldsInOrder
from zope.schema.interfaces import OutOfBounds
from zope.schema.interfaces import TooBig
from zope.schema.interfaces import TooLong
from zope.schema.interfaces import ValidationError

import re
import threading
import transaction


JOB_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")
FIELDS = tuple(name for name, _field in getFieldsInOrder(ICronJob))
#: Size limits: every change to a job rewrites all of its records.
MAX_ARGUMENTS = 50
MAX_ARGUMENT_NAME = 100
MAX_ARGUMENT_VALUE = 4000
MAX_ARGUMENTS_BYTES = 32 * 1024
MAX_NOTIFY = 20
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+$")
PING_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


_writers = threading.local()


@contextmanager
def writing_records():
    """Let the block change the records of cron jobs: collective.crontab's
    own ways in (the api, upgrade steps) and trusted Python code. Any other
    change of them (the configuration registry's forms and import,
    plone.restapi's @registry) is refused, so that nobody gets around the
    owner rules; a profile's registry.xml may ship jobs (``importing``)."""
    _writers.depth = getattr(_writers, "depth", 0) + 1
    try:
        yield
    finally:
        _writers.depth -= 1


class _Importing:
    """Profiles being imported in this transaction (transaction data: an
    import that fails leaves nothing behind)."""

    depth = 0


def importing(started):
    """A profile import starts (``started``) or ends: while one runs, its
    registry.xml may write job records."""
    txn = transaction.get()
    try:
        imports = txn.data(_Importing)
    except KeyError:
        imports = _Importing()
        txn.set_data(_Importing, imports)
    imports.depth = max(0, imports.depth + (1 if started else -1))


def may_write_records():
    """True inside ``writing_records`` or a profile import."""
    if getattr(_writers, "depth", 0):
        return True
    try:
        return transaction.get().data(_Importing).depth > 0
    except KeyError:
        return False


def schedule_message(error):
    """A ScheduleError's message as a Message of the collective.crontab domain."""
    return _message(error.text)


def _message(text):
    if not isinstance(text, Text):
        return text
    mapping = {name: _message(value) for name, value in (text.mapping or {}).items()}
    return _(str(text), mapping=mapping or None)


class _Scheduled:
    """What a job's time fields give: its zone and its parsed schedule."""

    @property
    def zone(self):
        """The time zone the schedule is read in."""
        return self.timezone or self.site_timezone

    @property
    def cron(self):
        """The parsed, cached Schedule; raises JobError naming every bad field
        (also a schedule with no run time in its zone)."""
        try:
            return schedule_for(self.schedule, self.zone)
        except ScheduleError as error:
            failure = schedule_message(error)
        errors = {}
        checks = (
            ("schedule", normalize, self.schedule),
            ("timezone", validate_timezone, self.zone),
        )
        for name, check, value in checks:
            try:
                check(value)
            except ScheduleError as error:
                errors[name] = schedule_message(error)
        raise JobError(self.id, errors or {"schedule": failure})


@dataclass(frozen=True)
class Job(_Scheduled):
    """A job as the tick and runners see it (a snapshot of its records)."""

    id: str
    title: str = ""
    runner: str = ""
    schedule: str = ""
    enabled: bool = True
    timezone: str = ""
    arguments: dict = field(default_factory=dict)
    catch_up: str = "skip"
    owner: str = ""
    max_runtime: int = 3600
    history: int = 100
    notify: list = field(default_factory=list)
    notify_recovery: bool = False
    ping_url: str = ""
    site_timezone: str = "UTC"


#: The fields that say when a job runs (``Timing``).
TIMING = ("schedule", "timezone", "enabled")


@dataclass(frozen=True)
class Timing(_Scheduled):
    """When a job runs, and nothing else: what the tick keeps of every job
    (the crontab's ``schedules`` index); it reads the whole job from the
    registry only when one is due."""

    id: str
    schedule: str = ""
    timezone: str = ""
    enabled: bool = True
    site_timezone: str = "UTC"


def job_problem(job_id, error):
    """What ``error``, raised while handling job ``job_id``, says is wrong."""
    if isinstance(error, JobError):
        return str(error)
    if isinstance(error, ScheduleError):
        return str(JobError(job_id, {"schedule": str(error)}))
    return f"Cron job '{job_id}': {type(error).__name__}: {error}"


def _registry():
    return getUtility(IRegistry)


def _prefix(job_id):
    return f"{JOBS_PREFIX}/{job_id}."


def site_timezone():
    zone = _registry().get("plone.portal_timezone") or "UTC"
    try:
        validate_timezone(zone)
    except ScheduleError:
        return "UTC"
    return zone


def job_ids():
    """Ids of all stored jobs, sorted (one pass over their records: ``list()``
    of the collection would take its length first, a second pass)."""
    return _registry().collectionOfInterface(ICronJob, prefix=JOBS_PREFIX).keys()


def read_job(job_id, zone=None):
    """The Job ``job_id`` or None. Missing records take schema defaults."""
    registry = _registry()
    prefix = _prefix(job_id)
    names = list(registry.records.keys(prefix, prefix[:-1] + "/"))
    if not names:
        return None
    values = {}
    for name in FIELDS:
        value = registry.get(prefix + name)
        if value is not None:
            values[name] = value
    values["arguments"] = dict(values.get("arguments") or {})
    return Job(id=job_id, site_timezone=zone or site_timezone(), **values)


def read_timing(job_id):
    """The TIMING fields of job ``job_id`` as a tuple, as ``read_job`` reads
    them, or None if the job has no records."""
    stored = _registry().records._values  # what read_jobs reads, uncached
    prefix = _prefix(job_id)
    if next(iter(stored.keys(prefix, prefix[:-1] + "/")), None) is None:
        return None
    defaults = Timing(job_id)
    values = (stored.get(prefix + name) for name in TIMING)
    return tuple(
        getattr(defaults, name) if value is None else value
        for name, value in zip(TIMING, values, strict=True)
    )


def read_jobs():
    """Every stored job, in id order, read in one pass over their records
    (10,000 jobs are 130,000 records: one lookup each takes seconds)."""
    zone = site_timezone()
    start = f"{JOBS_PREFIX}/"
    found = {}
    # The values Registry.get reads, in name order: <prefix>/<job id>.<field>
    records = _registry().records._values.items(start, start[:-1] + "0")
    for name, value in records:
        job_id, _dot, field_name = name[len(start) :].partition(".")
        values = found.setdefault(job_id, {})
        if field_name in FIELDS and value is not None:
            values[field_name] = value
    jobs = []
    for job_id in sorted(found):
        values = found[job_id]
        values["arguments"] = dict(values.get("arguments") or {})
        jobs.append(Job(id=job_id, site_timezone=zone, **values))
    return jobs


def validate(job_id, values, check_runner=True):  # noqa: C901
    """Check the fields of job ``job_id``; return the cleaned values.

    Raises JobError naming every bad field. Missing fields take the schema
    defaults; required ones must be present.
    """
    errors = {}
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise JobError(
            job_id,
            {
                "id": _(
                    "'${value}' must start with a letter and contain only letters, "
                    "digits, '-' and '_' (at most 64)",
                    mapping={"value": job_id},
                )
            },
        )
    unknown = set(values) - set(FIELDS)
    for name in sorted(unknown):
        errors[name] = _("is not a field of a cron job")
    cleaned = {}
    for name, schema_field in getFieldsInOrder(ICronJob):
        value = values.get(name)
        if value is None or (value == "" and schema_field.required):
            if schema_field.default in (None, "") and schema_field.required:
                errors[name] = _("is required")
                continue
            value = schema_field.default
        if name == "arguments":
            error = _check_arguments(value)
            if error:
                errors[name] = error
                continue
            value = dict(value)
        if name == "notify":
            error = _check_notify(value)
            if error:
                errors[name] = error
                continue
            value = [address.strip() for address in value]
        if name == "ping_url" and isinstance(value, str):
            value = value.strip()
            if value and not _is_ping_url(value):
                errors[name] = _(
                    "${value} must be an http:// or https:// URL",
                    mapping={"value": repr(value[:200])},
                )
                continue
        try:
            schema_field.bind(None).validate(value)
        except ValidationError as error:
            errors[name] = _describe(error, value)
            continue
        cleaned[name] = value
    if cleaned.get("timezone"):
        try:
            validate_timezone(cleaned["timezone"])
        except ScheduleError as error:
            errors["timezone"] = schedule_message(error)
    if "schedule" in cleaned:
        # A real next run in the zone the job runs in (its own, or the site's).
        zone = cleaned.get("timezone") or site_timezone()
        try:
            cleaned["schedule"] = cleaned["schedule"].strip()
            schedule_for(cleaned["schedule"], "UTC" if "timezone" in errors else zone)
        except ScheduleError as error:
            errors["schedule"] = schedule_message(error)
    runner = cleaned.get("runner")
    if check_runner and runner and queryUtility(ICronRunner, name=runner) is None:
        errors["runner"] = _(
            "'${value}' is not a registered runner", mapping={"value": runner}
        )
    if errors:
        raise JobError(job_id, errors)
    return cleaned


def _is_ping_url(value):
    if not PING_URL.match(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises for a port out of range
    except ValueError:
        return False
    return bool(parts.hostname)


def _check_arguments(value):
    if not isinstance(value, dict):
        return _(
            "must be a mapping of text to text, not ${type}",
            mapping={"type": type(value).__name__},
        )
    if len(value) > MAX_ARGUMENTS:
        return _(
            "has ${count} entries, at most ${max} are allowed",
            mapping={"count": len(value), "max": MAX_ARGUMENTS},
        )
    size = 0
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            return _(
                "'${key}' must map text to text (got ${type})",
                mapping={"key": key, "type": type(item).__name__},
            )
        if len(key) > MAX_ARGUMENT_NAME:
            return _(
                "the name '${key}...' is too long (${length} characters, at most "
                "${max})",
                mapping={"key": key[:50], "length": len(key), "max": MAX_ARGUMENT_NAME},
            )
        if len(item) > MAX_ARGUMENT_VALUE:
            return _(
                "'${key}' is too long (${length} characters, at most ${max})",
                mapping={"key": key, "length": len(item), "max": MAX_ARGUMENT_VALUE},
            )
        size += len(key.encode()) + len(item.encode())
    if size > MAX_ARGUMENTS_BYTES:
        return _(
            "are ${size} bytes in all, at most ${max} are allowed",
            mapping={"size": size, "max": MAX_ARGUMENTS_BYTES},
        )
    return None


def _check_notify(value):
    if not isinstance(value, (list, tuple)):
        return _(
            "must be a list of e-mail addresses, not ${type}",
            mapping={"type": type(value).__name__},
        )
    if len(value) > MAX_NOTIFY:
        return _(
            "has ${count} addresses, at most ${max} are allowed",
            mapping={"count": len(value), "max": MAX_NOTIFY},
        )
    for address in value:
        if not isinstance(address, str) or not EMAIL.match(address.strip()):
            return _(
                "${value} is not an e-mail address", mapping={"value": repr(address)}
            )
    return None


def _describe(error, value):
    if isinstance(error, TooLong):
        return _(
            "is too long (${length} characters, at most ${max})",
            mapping={"length": len(value), "max": error.bound},
        )
    if isinstance(error, OutOfBounds):
        mapping = {"value": repr(value), "limit": error.bound}
        if isinstance(error, TooBig):
            return _("${value} is more than the limit ${limit}", mapping=mapping)
        return _("${value} is less than the limit ${limit}", mapping=mapping)
    doc = error.doc() if hasattr(error, "doc") else str(error)
    return _("${value}: ${problem}", mapping={"value": repr(value), "problem": doc})


def write_job(job_id, values):
    """Store validated ``values`` for job ``job_id``, creating it if needed."""
    registry = _registry()
    collection = registry.collectionOfInterface(ICronJob, prefix=JOBS_PREFIX)
    with writing_records():
        if collection.has_key(job_id):  # a range lookup; `in` reads every job
            proxy = registry.forInterface(ICronJob, prefix=_prefix(job_id)[:-1])
        else:
            proxy = collection.add(job_id)
        for name, value in values.items():
            if getattr(proxy, name) != value:
                setattr(proxy, name, value)


def remove_job(job_id):
    collection = _registry().collectionOfInterface(ICronJob, prefix=JOBS_PREFIX)
    with writing_records():
        del collection[job_id]


def job_of_record(name):
    """The job id of a registry record name, or None."""
    if not name.startswith(JOBS_PREFIX + "/"):
        return None
    return name[len(JOBS_PREFIX) + 1 :].rsplit(".", 1)[0]
