from collective.crontab import _
from collective.crontab.interfaces import ICronRunner
from Products.CMFCore.utils import getToolByName
from zope.interface import implementer


@implementer(ICronRunner)
class CountContent:
    """A harmless runner for trying the crontab out: counts the content."""

    title = _("Count content")
    description = _(
        "Counts the items the job's owner can see in the catalog. Useful as "
        "a demo and as a heartbeat."
    )

    def __call__(self, site, job):
        catalog = getToolByName(site, "portal_catalog")
        return f"{len(catalog.searchResults())} items in the catalog"
