"""collective.crontab: a crontab for Plone 6."""

from collective.crontab.status import RunResult
from zope.i18nmessageid import MessageFactory

import contextlib
import logging


PACKAGE_NAME = "collective.crontab"
_ = MessageFactory(PACKAGE_NAME)
logger = logging.getLogger(PACKAGE_NAME)

__all__ = ["PACKAGE_NAME", "RunResult", "_", "logger"]

with contextlib.suppress(ImportError):  # without ZEO, nothing to patch
    from collective.crontab import zeo  # noqa: F401 -- see there
