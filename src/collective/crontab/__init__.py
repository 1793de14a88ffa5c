"""collective.crontab: a crontab for Plone 6."""

from dataclasses import dataclass
from zope.i18nmessageid import MessageFactory

import logging


PACKAGE_NAME = "collective.crontab"
_ = MessageFactory(PACKAGE_NAME)
logger = logging.getLogger(PACKAGE_NAME)


@dataclass(frozen=True)
class RunResult:
    """What a runner may return: ``status`` is 'success' or 'warning'."""

    status: str = "success"
    message: str = ""

    def __post_init__(self):
        if self.status not in ("success", "warning"):
            raise ValueError(
                f"RunResult status must be 'success' or 'warning', not {self.status!r}"
            )
