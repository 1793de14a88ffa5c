"""Cron jobs as plone.registry records: read, validate, write.

A job is the group of records ``collective.crontab.jobs/<job-id>.<field>`` of
the ICronJob schema, so any add-on can ship jobs in its own registry.xml.
"""

from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import ScheduleError
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import ICronRunner
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.schedule import normalize
from collective.crontab.schedule import schedule_for
from collective.crontab.schedule import validate_timezone
from dataclasses import dataclass
from dataclasses import field
from plone.registry.interfaces import IRegistry
from zope.component import getUtility
from zope.component import queryUtility
from zope.schema import getFieldsInOrder
from zope.schema.interfaces import ValidationError

import re


JOB_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")
FIELDS = tuple(name for name, _field in getFieldsInOrder(ICronJob))
MAX_ARGUMENT_LENGTH = 10000
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+$")
PING_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


@dataclass(frozen=True)
class Job:
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
            failure = str(error)
        errors = {}
        checks = (
            ("schedule", normalize, self.schedule),
            ("timezone", validate_timezone, self.zone),
        )
        for name, check, value in checks:
            try:
                check(value)
            except ScheduleError as error:
                errors[name] = str(error)
        raise JobError(self.id, errors or {"schedule": failure})


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


def read_jobs():
    """Every stored job, in id order."""
    zone = site_timezone()
    return [read_job(job_id, zone) for job_id in job_ids()]


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
                "id": f"'{job_id}' must start with a letter and contain only letters, "
                "digits, '-' and '_' (at most 64)"
            },
        )
    unknown = set(values) - set(FIELDS)
    for name in sorted(unknown):
        errors[name] = "is not a field of a cron job"
    cleaned = {}
    for name, schema_field in getFieldsInOrder(ICronJob):
        value = values.get(name)
        if value is None or (value == "" and schema_field.required):
            if schema_field.default in (None, "") and schema_field.required:
                errors[name] = "is required"
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
            if value and not PING_URL.match(value):
                errors[name] = f"{value!r} must be an http:// or https:// URL"
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
            errors["timezone"] = str(error)
    if "schedule" in cleaned:
        # A real next run in the zone the job runs in (its own, or the site's).
        zone = cleaned.get("timezone") or site_timezone()
        try:
            cleaned["schedule"] = cleaned["schedule"].strip()
            schedule_for(cleaned["schedule"], "UTC" if "timezone" in errors else zone)
        except ScheduleError as error:
            errors["schedule"] = str(error)
    runner = cleaned.get("runner")
    if check_runner and runner and queryUtility(ICronRunner, name=runner) is None:
        errors["runner"] = f"'{runner}' is not a registered runner"
    if errors:
        raise JobError(job_id, errors)
    return cleaned


def _check_arguments(value):
    if not isinstance(value, dict):
        return f"must be a mapping of text to text, not {type(value).__name__}"
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            return f"'{key}' must map text to text (got {type(item).__name__})"
        if len(key) > 200 or len(item) > MAX_ARGUMENT_LENGTH:
            return f"'{key[:50]}' is too long"
    return None


def _check_notify(value):
    if not isinstance(value, (list, tuple)):
        return f"must be a list of e-mail addresses, not {type(value).__name__}"
    for address in value:
        if not isinstance(address, str) or not EMAIL.match(address.strip()):
            return f"{address!r} is not an e-mail address"
    return None


def _describe(error, value):
    doc = error.doc() if hasattr(error, "doc") else str(error)
    return f"{value!r}: {doc}"


def write_job(job_id, values):
    """Store validated ``values`` for job ``job_id``, creating it if needed."""
    registry = _registry()
    collection = registry.collectionOfInterface(ICronJob, prefix=JOBS_PREFIX)
    if collection.has_key(job_id):  # a range lookup; `in` reads every job
        proxy = registry.forInterface(ICronJob, prefix=_prefix(job_id)[:-1])
    else:
        proxy = collection.add(job_id)
    for name, value in values.items():
        if getattr(proxy, name) != value:
            setattr(proxy, name, value)


def remove_job(job_id):
    collection = _registry().collectionOfInterface(ICronJob, prefix=JOBS_PREFIX)
    del collection[job_id]


def job_of_record(name):
    """The job id of a registry record name, or None."""
    if not name.startswith(JOBS_PREFIX + "/"):
        return None
    return name[len(JOBS_PREFIX) + 1 :].rsplit(".", 1)[0]
