"""Keep runtime state in step with the job records in the registry."""

from collective.crontab.jobs import job_of_record
from collective.crontab.jobs import read_timing
from collective.crontab.jobs import TIMING
from collective.crontab.state import get_crontab
from plone.registry.interfaces import IRecordAddedEvent
from plone.registry.interfaces import IRecordModifiedEvent
from plone.registry.interfaces import IRecordRemovedEvent
from zope.component.hooks import getSite


#: Changing these fields re-arms the job: its next slot is counted from the
#: next tick, never from a slot in the past.
REARM = ("schedule", "timezone")


def job_record_changed(event):
    name = event.record.__name__ or ""
    job_id = job_of_record(name)
    if job_id is None:
        return
    site = getSite()
    crontab = get_crontab(site) if site is not None else None
    if crontab is None:
        return  # not installed yet: post_install creates the states
    crontab.version.change(1)
    field = name.rsplit(".", 1)[-1]
    if field in TIMING or IRecordRemovedEvent.providedBy(event):
        crontab.index(job_id, read_timing(job_id))
    if IRecordAddedEvent.providedBy(event):
        crontab.state(job_id, create=True)
    elif IRecordModifiedEvent.providedBy(event):
        enabled = field == "enabled" and event.newValue and not event.oldValue
        if (field in REARM and event.newValue != event.oldValue) or enabled:
            crontab.rearm(job_id)
