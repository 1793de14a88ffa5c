"""1006 -> 1007: the lease of a run in progress becomes a ``Lease``."""

from collective.crontab import logger
from collective.crontab.state import get_crontab
from collective.crontab.state import Lease
from zope.component.hooks import getSite


def convert_leases(setup_tool):
    crontab = get_crontab(getSite())
    if crontab is None:
        return
    converted = 0
    for state in crontab.states.values():
        lease = state.lease
        if isinstance(lease, dict):
            state.lease = Lease(
                lease["slot"], lease["started"], lease["client"], lease["expires"]
            )
            converted += 1
    logger.info("Cron jobs: %d leases converted", converted)
