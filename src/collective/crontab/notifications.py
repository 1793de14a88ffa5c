"""Telling people about runs: failure e-mail and ping URLs.

E-mail: when a run fails or is abandoned, the job's ``notify`` addresses get
one mail per failure streak (the streak is kept in the job's JobState), and,
with ``notify_recovery``, one when the job succeeds again. The mail goes
through the site's MailHost after the run's record is committed. Only the
addresses of site users who may manage cron jobs get the traceback.

Pings: a job with a ``ping_url`` gets ``<url>/start`` when a run starts,
``<url>`` once a success or warning is recorded and ``<url>/fail`` once a
failure or abandoned run is. One background worker sends them in order, so a
ping never delays a run, a tick or a request; a ping that fails is logged and
never fails the run. See ``send`` for the rules a ping follows.
"""

from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from collective.crontab import _
from collective.crontab import logger
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import read_job
from collective.crontab.permissions import ManageJobs
from collective.crontab.status import Status
from email.message import EmailMessage
from email.utils import formataddr
from plone.registry.interfaces import IRegistry
from Products.CMFCore.utils import getToolByName
from urllib.parse import urlsplit
from zope.component import getUtility
from zope.component.hooks import getSite
from zope.i18n import translate

import ipaddress
import queue
import socket
import ssl
import threading
import time
import transaction


#: Seconds a ping may take in all (name lookup, connection, answer).
PING_DEADLINE = 10
#: Pings waiting for the worker; more are dropped (and logged).
PING_QUEUE = 100
#: Registry record: may pings go to loopback, private, link-local addresses?
ALLOW_PRIVATE = "collective.crontab.allow_private_ping_targets"
PING_SUFFIX = {
    "start": "/start",
    Status.SUCCESS: "",
    Status.WARNING: "",
    Status.FAILURE: "/fail",
    Status.ABANDONED: "/fail",
}


def run_recorded(job_id, state):
    """Call in the transaction that appended a run to ``state``: track the
    failure streak and, at its start or end, mail the job's ``notify`` list
    once that transaction is committed."""
    run = state.runs[state.runs.minKey()]
    status = Status(run.status)
    if not status.ran:
        return
    registry = getUtility(IRegistry)
    ping_url = registry.get(f"{JOBS_PREFIX}/{job_id}.ping_url")
    if ping_url:
        transaction.get().addAfterCommitHook(
            _ping_committed, args=(job_id, ping_url, status, _allow_private())
        )
    failed = status.failed
    if failed == state.failing:
        return
    state.failing = failed
    job = read_job(job_id)
    if job is None or not job.notify or not (failed or job.notify_recovery):
        return
    site = getSite()
    managers = _managers(site, job.notify)
    others = [address for address in job.notify if address not in managers]
    for addresses, with_traceback in ((managers, True), (others, False)):
        if addresses:
            message = _message(site, job, run, failed, addresses, with_traceback)
            if message is None:
                return
            transaction.get().addAfterCommitHook(_send, args=(site, message))


def _managers(site, addresses):
    """Those of ``addresses`` that are the e-mail of a user of ``site`` who
    may manage cron jobs there: only they get tracebacks."""
    users = getToolByName(site, "acl_users")
    managers = []
    for address in addresses:
        found = {
            info["userid"]
            for info in users.searchUsers(email=address)
            if (info.get("email") or "").lower() == address.lower()
        }
        for user_id in sorted(found):
            user = users.getUserById(user_id)
            if user is not None and user.has_permission(ManageJobs, site):
                managers.append(address)
                break
    return managers


def _message(site, job, run, failed, addresses, with_traceback):
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
    if run.traceback and with_traceback:
        parts.append(
            translate(_("Traceback:"), target_language=language) + "\n" + run.traceback
        )
    parts.append(site.absolute_url() + "/@@crontab-controlpanel")
    message = EmailMessage()
    message["Subject"] = translate(subject, target_language=language)
    message["From"] = formataddr((registry.get("plone.email_from_name") or "", sender))
    message["To"] = ", ".join(addresses)
    message.set_content("\n\n".join(parts))
    return message


def _send(committed, site, message):
    if not committed:
        return
    try:
        getToolByName(site, "MailHost").send(message, immediate=True)
    except Exception:
        logger.exception("Could not send the cron mail '%s'", message["Subject"])


class PingError(Exception):
    """A ping that was refused or not answered with success."""


_pings = queue.Queue(PING_QUEUE)
_worker_lock = threading.Lock()
_worker = None


def ping(job, event):
    """Queue the ping of ``job`` for ``event`` ('start' or a run status)."""
    if job.ping_url:
        _queue(job.id, job.ping_url, event, _allow_private())


def _allow_private():
    return bool(getUtility(IRegistry).get(ALLOW_PRIVATE, False))


def _ping_committed(committed, job_id, ping_url, event, allow_private):
    if committed:
        _queue(job_id, ping_url, event, allow_private)


def _queue(job_id, ping_url, event, allow_private):
    global _worker
    suffix = PING_SUFFIX.get(event)
    if suffix is None:
        return
    url = ping_url.rstrip("/") + suffix
    try:
        _pings.put_nowait((job_id, url, allow_private))
    except queue.Full:
        logger.warning(
            "Cron job '%s': ping %s dropped, %d pings are already waiting",
            job_id,
            url,
            PING_QUEUE,
        )
        return
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(
                target=_work, name="collective.crontab pings", daemon=True
            )
            _worker.start()


def _work():
    while True:
        job_id, url, allow_private = _pings.get()
        try:
            send(url, allow_private)
        except Exception as error:
            logger.warning("Cron job '%s': ping %s failed: %s", job_id, url, error)
        finally:
            _pings.task_done()


def drain(timeout=None):
    """Wait until every queued ping is sent or given up; False on timeout."""
    with _pings.all_tasks_done:
        return _pings.all_tasks_done.wait_for(
            lambda: not _pings.unfinished_tasks, timeout
        )


def send(url, allow_private=False, deadline=None):
    """GET ``url`` (http or https) within ``deadline`` seconds in all
    (default PING_DEADLINE), however slowly the server answers; return the
    status code. The host name is resolved now and the connection goes to
    the address checked: loopback, private, link-local and reserved ones are
    refused unless ``allow_private``. Redirects are not followed.
    Raises PingError (or OSError) when the ping did not succeed."""
    ends = time.monotonic() + (PING_DEADLINE if deadline is None else deadline)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PingError("not an http:// or https:// URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _address(parts.hostname, port, allow_private, ends)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host = parts.netloc.rpartition("@")[2]
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\n"
        "User-Agent: collective.crontab\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    try:
        sock = socket.create_connection(address, timeout=_left(ends))
    except TimeoutError:
        raise PingError("no connection within the deadline") from None
    try:
        if parts.scheme == "https":
            sock.settimeout(_left(ends))  # one deadline for the whole handshake
            sock = ssl.create_default_context().wrap_socket(
                sock, server_hostname=parts.hostname
            )
        sock.settimeout(_left(ends))
        sock.sendall(request)
        status = _status_line(sock, ends)
    except TimeoutError:
        raise PingError("no answer within the deadline") from None
    finally:
        sock.close()
    try:
        code = int(status.split()[1])
    except (IndexError, ValueError):
        raise PingError(f"answered {status[:100]!r}, not HTTP") from None
    if 300 <= code < 400:
        raise PingError(f"answered {code}: redirects are not followed")
    if code >= 400:
        raise PingError(f"answered {code}")
    return code


def _left(ends):
    left = ends - time.monotonic()
    if left <= 0:
        raise PingError("no answer within the deadline")
    return left


def _address(host, port, allow_private, ends):
    """The (address, port) to connect to for ``host``, looked up within the
    deadline; every address it resolves to must be public."""
    found = {}

    def lookup():
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            found["error"] = error

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(_left(ends))
    if "error" in found:
        raise found["error"]
    if "infos" not in found:
        raise PingError(f"no address for {host} within the deadline")
    addresses = [info[4][:2] for info in found["infos"]]
    if not allow_private:
        for ip, _port in addresses:
            if not _public(ip):
                raise PingError(
                    f"refused: {host} is {ip}, not a public address (a Manager "
                    f"may allow it with the registry setting {ALLOW_PRIVATE})"
                )
    return addresses[0]


def _public(ip):
    address = ipaddress.ip_address(ip)
    address = getattr(address, "ipv4_mapped", None) or address
    return address.is_global and not address.is_multicast


def _status_line(sock, ends):
    """The first line of the answer, read before the deadline."""
    received = b""
    while b"\n" not in received and len(received) < 1024:
        sock.settimeout(_left(ends))
        chunk = sock.recv(1024)
        if not chunk:
            break
        received += chunk
    return received.split(b"\n", 1)[0].decode("latin-1").strip()


def guard_allow_private(event):
    """Only a Manager may allow pings to private addresses."""
    if getattr(event.record, "__name__", None) != ALLOW_PRIVATE:
        return
    if not event.record.value:
        return
    site = getSite()
    user = getSecurityManager().getUser()
    if site is not None and not user.has_role("Manager", site):
        raise Unauthorized(f"Only a Manager may switch on {ALLOW_PRIVATE}")
