"""The naive tick of the old cron add-ons, as a yardstick.

Products.cron4plone and collective.cron evaluate every cron expression on
every tick and log to one persistent list. This tick does the same, but
takes the schedules the engine has already read (its cache) and reads the
rest of a job from the registry only when it is due: the benchmark
compares scheduling and logging only, so the naive tick's real cost is
higher than measured.
"""

from collective.crontab.engine import _jobs_cache
from collective.crontab.engine import run_as
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import read_job
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.status import Status
from croniter import croniter
from datetime import datetime
from persistent.list import PersistentList
from persistent.mapping import PersistentMapping
from zoneinfo import ZoneInfo
from zope.annotation.interfaces import IAnnotations
from zope.component import queryUtility


KEY = "collective.crontab.bench.naive"


def jobs(site):
    return _jobs_cache(site, get_crontab(site)).jobs


def log(site):
    """{'last': job id -> last run, 'runs': [every run, oldest first]}."""
    annotations = IAnnotations(site)
    data = annotations.get(KEY)
    if data is None:
        data = annotations[KEY] = PersistentMapping(
            last=PersistentMapping(), runs=PersistentList()
        )
    return data


def arm(site, now):
    """Count every job's next slot from ``now`` (one transaction)."""
    last = log(site)["last"]
    for job in jobs(site):
        last[job.id] = now


def tick(site, now=None):
    now = now or utcnow()
    data = log(site)
    ran = []
    for job in jobs(site):
        if not job.enabled:
            continue
        last = data["last"].get(job.id, now)
        following = croniter(job.schedule, last.astimezone(ZoneInfo(job.zone)))
        if following.get_next(datetime) > now:
            continue
        job = read_job(job.id)
        started = utcnow()
        try:
            with run_as(site, job.owner):
                message = str(queryUtility(ICronRunner, name=job.runner)(site, job))
            status = Status.SUCCESS
        except Exception as error:
            status, message = Status.FAILURE, str(error)
        data["runs"].append({
            "job": job.id,
            "slot": now,
            "started": started,
            "finished": utcnow(),
            "status": status,
            "message": message,
        })
        data["last"][job.id] = now
        ran.append(job.id)
    return {"now": now.isoformat(), "ran": ran}
