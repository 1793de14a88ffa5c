"""1000 -> 1001: jobs get the records notify, notify_recovery and ping_url."""

from collective.crontab import logger
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import writing_records
from plone.registry.interfaces import IRegistry
from zope.component import getUtility


def add_notification_records(setup_tool):
    """Register the records of every ICronJob field missing from a job,
    with the field's default; existing values are kept."""
    registry = getUtility(IRegistry)
    ids = job_ids()
    with writing_records():
        for job_id in ids:
            registry.registerInterface(ICronJob, prefix=f"{JOBS_PREFIX}/{job_id}")
    logger.info("Added notification records to %d cron jobs", len(ids))
