"""Telling people about runs: failure e-mail and ping URLs.

E-mail: when a run fails or is abandoned, the job's ``notify`` addresses get
one mail per failure streak (the streak is kept in the job's JobState), and,
with ``notify_recovery``, one when the job succeeds again. The mail goes
through the site's MailHost after the run's record is committed.

Pings: a job with a ``ping_url`` gets ``<url>/start`` before a run, ``<url>``
after a success or warning and ``<url>/fail`` after a failure, each with a
short timeout; a ping that fails is logged and never fails the run.
"""

from collective.crontab import _
from collective.crontab import logger
from collective.crontab.jobs import read_job
from collective.crontab.status import Status
from email.message import EmailMessage
from email.utils import formataddr
from plone.registry.interfaces import IRegistry
from Products.CMFCore.utils import getToolByName
from zope.component import getUtility
from zope.component.hooks import getSite
from zope.i18n import translate

import transaction
import urllib.request


#: Seconds a ping may take before it is given up.
PING_TIMEOUT = 5
PING_SUFFIX = {
    "start": "/start",
    Status.SUCCESS: "",
    Status.WARNING: "",
    Status.FAILURE: "/fail",
}


def run_recorded(job_id, state):
    """Call in the transaction that appended a run to ``state``: track the
    failure streak and, at its start or end, mail the job's ``notify`` list
    once that transaction is committed."""
    run = state.runs[state.runs.minKey()]
    status = Status(run.status)
    if not status.ran:
        return
    failed = status.failed
    if failed == state.failing:
        return
    state.failing = failed
    job = read_job(job_id)
    if job is None or not job.notify or not (failed or job.notify_recovery):
        return
    site = getSite()
    message = _message(site, job, run, failed)
    if message is not None:
        transaction.get().addAfterCommitHook(_send, args=(site, message))


def _message(site, job, run, failed):
    registry = getUtility(IRegistry)
    sender = registry.get("plone.email_from_address")
    if not sender:
        logger.warning(
            "Cron job '%s': no mail sent to %s, the site has no e-mail sender "
            "address (Site Setup > Mail)",
            job.id,
            ", ".join(job.notify),
        )
        return None
    language = registry.get("plone.default_language") or "en"
    mapping = {
        "job": job.id,
        "title": job.title,
        "site": site.Title(),
        "status": run.status,
        "slot": run.slot.isoformat(),
        "client": run.client,
    }
    if failed:
        subject = _("[${site}] Cron job ${job} failed", mapping=mapping)
        intro = _(
            "The cron job ${job} (${title}) did not complete: status ${status} "
            "for the slot ${slot}, on ${client}. No further mail is sent "
            "until it succeeds again.",
            mapping=mapping,
        )
    else:
        subject = _("[${site}] Cron job ${job} recovered", mapping=mapping)
        intro = _(
            "The cron job ${job} (${title}) succeeded again for the slot "
            "${slot}, on ${client}.",
            mapping=mapping,
        )
    parts = [translate(intro, target_language=language)]
    if run.message:
        parts.append(
            translate(_("Message:"), target_language=language) + "\n" + run.message
        )
    if run.traceback:
        parts.append(
            translate(_("Traceback:"), target_language=language) + "\n" + run.traceback
        )
    parts.append(site.absolute_url() + "/@@crontab-controlpanel")
    message = EmailMessage()
    message["Subject"] = translate(subject, target_language=language)
    message["From"] = formataddr((registry.get("plone.email_from_name") or "", sender))
    message["To"] = ", ".join(job.notify)
    message.set_content("\n\n".join(parts))
    return message


def _send(committed, site, message):
    if not committed:
        return
    try:
        getToolByName(site, "MailHost").send(message, immediate=True)
    except Exception:
        logger.exception("Could not send the cron mail '%s'", message["Subject"])


def ping(job, event):
    """GET the job's ping URL for ``event`` ('start' or a run status)."""
    suffix = PING_SUFFIX.get(event)
    if not job.ping_url or suffix is None:
        return
    url = job.ping_url.rstrip("/") + suffix
    try:
        with urllib.request.urlopen(url, timeout=PING_TIMEOUT) as response:  # noqa: S310
            response.read(1024)
    except Exception as error:
        logger.warning("Cron job '%s': ping %s failed: %s", job.id, url, error)
