"""Keep runtime state in step with the job records in the registry."""

from Acquisition import aq_base
from collective.crontab.jobs import job_of_record
from collective.crontab.jobs import may_write_records
from collective.crontab.jobs import read_timing
from collective.crontab.jobs import TIMING
from collective.crontab.state import get_crontab
from plone.registry.interfaces import IRecordAddedEvent
from plone.registry.interfaces import IRecordModifiedEvent
from plone.registry.interfaces import IRecordRemovedEvent
from plone.registry.interfaces import IRegistry
from zExceptions import Forbidden
from zope.component import queryUtility
from zope.component.hooks import getSite

import transaction


#: Changing these fields re-arms the job: its next slot is counted from the
#: next tick, never from a slot in the past.
REARM = ("schedule", "timezone")


def _of_the_site(event, name):
    """True if the event is about a record of the site's registry (not of
    a scratch registry such as the one shipped.py reads registry.xml into;
    a removed record has no parent any more)."""
    registry = queryUtility(IRegistry)
    if registry is None:
        return False
    if IRecordRemovedEvent.providedBy(event):
        return name not in registry.records
    return aq_base(getattr(event.record, "__parent__", None)) is aq_base(registry)


def job_record_changed(event):
    name = event.record.__name__ or ""
    job_id = job_of_record(name)
    if job_id is None or not _of_the_site(event, name):
        return
    if not may_write_records():
        # The value is stored already: doomed, the transaction cannot
        # commit it even where the refusal is caught.
        transaction.get().doom()
        raise Forbidden(
            f"Cron job '{job_id}': its records ({name}) change only through "
            "collective.crontab (the Cron jobs control panel, @crontab, "
            "crontab-ctl, collective.crontab.api or a profile's registry.xml), "
            "not in the configuration registry"
        )
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
