"""1001 -> 1004: the registry setting that allows pings to private addresses."""

from collective.crontab import logger
from collective.crontab.notifications import ALLOW_PRIVATE
from plone.registry.interfaces import IRegistry
from zope.component import getUtility


def add_ping_setting(setup_tool):
    """Add ``collective.crontab.allow_private_ping_targets`` (off) from the
    profile's registry.xml, unless the site has it (its value is kept)."""
    if ALLOW_PRIVATE in getUtility(IRegistry).records:
        return
    setup_tool.runImportStepFromProfile(
        "profile-collective.crontab:default", "plone.app.registry"
    )
    logger.info("Added the setting %s (off)", ALLOW_PRIVATE)
