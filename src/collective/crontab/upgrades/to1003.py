"""1001 -> 1003: owners recorded with their user folder; the clock role."""

from collective.crontab import logger
from collective.crontab import owners
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import writing_records
from plone.registry.interfaces import IRegistry
from zope.component import getUtility
from zope.component.hooks import getSite


def record_owner_folders(setup_tool):
    """A job's owner found only in the Zope root's user folder (it ran
    there through a fallback that is gone) becomes ``/<id>``; owners of the
    site stay as they are, missing ones too (their runs fail naming them)."""
    site = getSite()
    registry = getUtility(IRegistry)
    root_users = site.getPhysicalRoot().acl_users
    moved = []
    for job_id in job_ids():
        name = f"{JOBS_PREFIX}/{job_id}.owner"
        owner = registry.get(name) or ""
        if not owner or owner.startswith(owners.ROOT):
            continue
        if site.acl_users.getUserById(owner) is not None:
            continue
        if root_users.getUserById(owner) is not None:
            with writing_records():
                registry[name] = owners.ROOT + owner
            moved.append(job_id)
    logger.info("Cron jobs owned by Zope-root users: %s", ", ".join(moved) or "none")


def add_clock_role(setup_tool):
    """The 'Crontab Clock' role, allowed to run the tick and nothing else."""
    setup_tool.runImportStepFromProfile("profile-collective.crontab:default", "rolemap")
