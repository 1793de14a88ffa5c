"""1005 -> 1006: the slot up to which a job is handled moves from its state
into the crontab's ``handled`` BTree (cheap arming of many new jobs)."""

from BTrees.OOBTree import OOBTree
from collective.crontab import logger
from collective.crontab.state import get_crontab
from zope.component.hooks import getSite


def move_handled_slots(setup_tool):
    crontab = get_crontab(getSite())
    if crontab is None:
        return
    crontab._p_activate()
    if "handled" not in vars(crontab):
        crontab.handled = OOBTree()
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
    logger.info("Cron jobs: the handled slots of %d jobs moved", moved)
