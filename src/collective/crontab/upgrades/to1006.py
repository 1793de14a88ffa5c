"""1005 -> 1006: the slot up to which each job is handled moves from its
state into the crontab's ``handled`` BTree, and the crontab indexes every
job's schedule (``schedules``): the first tick after adding many jobs arms
them in a few writes and reads no job records."""

from BTrees.OOBTree import OOBTree
from collective.crontab import logger
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import read_timing
from collective.crontab.state import get_crontab
from zope.component.hooks import getSite


def index_schedules_and_handled_slots(setup_tool):
    crontab = get_crontab(getSite())
    if crontab is None:
        return
    crontab._p_activate()
    for name in ("handled", "schedules"):
        if name not in vars(crontab):
            setattr(crontab, name, OOBTree())
    moved = 0
    for job_id, state in crontab.states.items():
        state._p_activate()
        if "last" not in vars(state):
            continue
        last = vars(state).pop("last")
        state._p_changed = True
        if last is not None:
            crontab.handled[job_id] = last
            moved += 1
    indexed = 0
    for job_id in job_ids():
        crontab.index(job_id, read_timing(job_id))
        indexed += 1
    logger.info(
        "Cron jobs: %d schedules indexed, the handled slots of %d jobs moved",
        indexed,
        moved,
    )
