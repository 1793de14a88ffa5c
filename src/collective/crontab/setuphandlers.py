from collective.crontab.exceptions import JobError
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import read_job
from collective.crontab.jobs import read_timing
from collective.crontab.jobs import validate
from collective.crontab.jobs import writing_records
from collective.crontab.shipped import job_ids_in
from collective.crontab.shipped import registry_files
from collective.crontab.state import get_crontab
from collective.crontab.state import remove_crontab
from dataclasses import asdict
from plone.base.interfaces import INonInstallable
from plone.registry.interfaces import IRegistry
from zope.component import getUtility
from zope.component.hooks import getSite
from zope.interface import implementer


@implementer(INonInstallable)
class HiddenProfiles:
    def getNonInstallableProfiles(self):
        return ["collective.crontab:uninstall"]


def post_install(setup_tool):
    """Create every persistent container now, so that the first ticks of
    several clients do not conflict creating them."""
    site = getSite()
    crontab = get_crontab(site, create=True)
    for job_id in job_ids():
        crontab.state(job_id, create=True)
        crontab.index(job_id, read_timing(job_id))


def uninstall(setup_tool):
    """Remove every job record and the run log."""
    registry = getUtility(IRegistry)
    prefix = JOBS_PREFIX + "/"
    with writing_records():
        for name in list(registry.records.keys(prefix, prefix[:-1] + "0")):
            del registry.records[name]
    remove_crontab(getSite())


def validate_imported_jobs(context):
    """Import step: a profile's registry.xml may ship cron jobs. Reject the
    whole import (the transaction is aborted) if one of them could not run,
    with a message naming the job and the field."""
    for job_id in job_ids_in(registry_files(context)):
        job = read_job(job_id)
        if job is None:
            continue  # removed by this import
        values = asdict(job)
        del values["id"], values["site_timezone"]
        try:
            validate(job_id, values)
        except JobError as error:
            raise JobError(
                job_id,
                {
                    name: f"{message} (in {_profile_name(context)})"
                    for name, message in error.errors.items()
                },
            ) from None


def _profile_name(context):
    return "registry.xml of profile %s" % (getattr(context, "_profile_path", "") or "?")
