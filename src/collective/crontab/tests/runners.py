"""Runners used by the tests; each leaves a trace a test can read back."""

from AccessControl import getSecurityManager
from collective.crontab import engine
from collective.crontab import RunResult
from collective.crontab.engine import running_slot
from collective.crontab.engine import running_slots
from collective.crontab.interfaces import ICronRunner
from pathlib import Path
from zope.annotation.interfaces import IAnnotations
from zope.interface import implementer

import json
import time
import transaction
import uuid


TRACE = "collective.crontab.tests.trace"


def traces(site):
    """What the runners did, oldest first (a tuple, stored in the site)."""
    return IAnnotations(site).get(TRACE, ())


def _trace(site, job, what):
    annotations = IAnnotations(site)
    annotations[TRACE] = (*annotations.get(TRACE, ()), (job.id, what))


class Base:
    title = "Test runner"
    description = "Used by the tests."


@implementer(ICronRunner)
class Record(Base):
    def __call__(self, site, job):
        _trace(site, job, "ran")
        return f"recorded {job.id}"


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
class Slots(Base):
    """Traces the slots its run stands for: (first, last, count)."""

    def __call__(self, site, job):
        slots = running_slots()
        _trace(site, job, (slots.first, slots.last, slots.count, running_slot()))


@implementer(ICronRunner)
class WhoAmI(Base):
    def __call__(self, site, job):
        user = getSecurityManager().getUser()
        _trace(site, job, user.getId())
        return user.getId()


@implementer(ICronRunner)
class SlotDocument(Base):
    """Commits content: one document per run, titled '<job id> <slot>'."""

    def __call__(self, site, job):
        slot = running_slot().isoformat()
        document_id = f"run-{uuid.uuid4().hex[:16]}"
        site.invokeFactory("Document", document_id, title=f"{job.id} {slot}")
        return f"created {document_id}"


@implementer(ICronRunner)
class Block(Base):
    """Writes the file ``<release>.started`` then waits until the file
    ``release`` exists (at most a minute), like a long run."""

    def __call__(self, site, job):
        release = Path(job.arguments["release"])
        Path(f"{release}.started").write_text(running_slot().isoformat())
        for _attempt in range(600):
            if release.exists():
                return "released"
            time.sleep(0.1)
        raise TimeoutError(f"{release} was not created")


#: Attempts of the conflict runner, by job id.
ATTEMPTS = {}


@implementer(ICronRunner)
class Conflict(Base):
    """Writes to the site while another connection commits a write to it
    first, in the first ``conflicts`` attempts: a real ConflictError."""

    def __call__(self, site, job):
        attempt = ATTEMPTS[job.id] = ATTEMPTS.get(job.id, 0) + 1
        site.crontab_test_value = f"runner attempt {attempt}"
        if attempt <= int(job.arguments.get("conflicts", "0")):
            manager = transaction.TransactionManager()
            other = site._p_jar.db().open(transaction_manager=manager)
            try:
                other.get(site._p_oid).crontab_test_value = "other connection"
                manager.commit()
            finally:
                other.close()
        return f"attempt {attempt}"


@implementer(ICronRunner)
class Flood(Base):
    """Returns (or, with argument fail, raises with) a message of
    ``size`` characters."""

    def __call__(self, site, job):
        text = "x" * int(job.arguments["size"])
        if job.arguments.get("fail"):
            raise RuntimeError(text)
        return text


@implementer(ICronRunner)
class Takes(Base):
    """Takes ``seconds`` on the engine's clock (a tests.base.FakeClock)."""

    def __call__(self, site, job):
        engine.current_time.advance(int(job.arguments["seconds"]))
        return "done"


@implementer(ICronRunner)
class Sleep(Base):
    """Sleeps ``seconds`` of real time: a long job for the process tests."""

    def __call__(self, site, job):
        time.sleep(float(job.arguments["seconds"]))
        return f"slept {job.arguments['seconds']}s"


@implementer(ICronRunner)
class Request(Base):
    """Reports what its request carries, then answers with a cookie, a
    header and a status of its own (none may reach the caller)."""

    def __call__(self, site, job):
        request = site.REQUEST
        seen = {
            "form": sorted(request.form),
            "cookies": sorted(request.cookies),
            "caller_header": request.getHeader("X-Caller"),
            "authorization": request.getHeader("Authorization"),
            "user": getSecurityManager().getUser().getId(),
        }
        request.response.setCookie("leaked", "yes")
        request.response.setHeader("X-Leaked", "yes")
        request.response.setStatus(418)
        return json.dumps(seen)


@implementer(ICronRunner)
class WriteThenTick(Base):
    """Writes, starts a tick inside its run, then fails."""

    def __call__(self, site, job):
        _trace(site, job, "half-written")
        engine.tick(site)
        raise ValueError("failed after the nested tick")
