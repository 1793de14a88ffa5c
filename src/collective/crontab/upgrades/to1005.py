"""1001 -> 1005: every job gets a change log; the jobs that installed
add-ons ship learn their origin, so that re-imports keep local edits."""

from collective.crontab import logger
from collective.crontab import shipped
from collective.crontab.jobs import job_ids
from collective.crontab.state import ChangeLog
from collective.crontab.state import get_crontab
from zope.component.hooks import getSite


def add_change_logs_and_origins(setup_tool):
    crontab = get_crontab(getSite())
    for job_id in job_ids():
        state = crontab.state(job_id, create=True)
        if state.changes is None:
            state.changes = ChangeLog()
    found = shipped.record_origins(setup_tool)
    logger.info("Cron jobs: change logs added, %d shipped jobs found", found)
