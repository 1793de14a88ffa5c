"""Runners used by the tests; each leaves a trace a test can read back."""

from AccessControl import getSecurityManager
from collective.crontab import RunResult
from collective.crontab.interfaces import ICronRunner
from zope.annotation.interfaces import IAnnotations
from zope.interface import implementer


TRACE = "collective.crontab.tests.trace"


def traces(site):
    """What the runners did, oldest first (a tuple, stored in the site)."""
    return IAnnotations(site).get(TRACE, ())


def _trace(site, job, what):
    annotations = IAnnotations(site)
    annotations[TRACE] = annotations.get(TRACE, ()) + ((job.id, what),)


class Base:
    title = "Test runner"
    description = "Used by the tests."


@implementer(ICronRunner)
class Record(Base):
    def __call__(self, site, job):
        _trace(site, job, "ran")
        return "recorded %s" % job.id


@implementer(ICronRunner)
class Fail(Base):
    def __call__(self, site, job):
        raise RuntimeError("the runner broke on purpose")


@implementer(ICronRunner)
class Warn(Base):
    def __call__(self, site, job):
        return RunResult("warning", "disk almost full")


@implementer(ICronRunner)
class WriteThenFail(Base):
    def __call__(self, site, job):
        _trace(site, job, "half-written")
        raise ValueError("failed after writing")


@implementer(ICronRunner)
class WhoAmI(Base):
    def __call__(self, site, job):
        user = getSecurityManager().getUser()
        _trace(site, job, user.getId())
        return user.getId()
