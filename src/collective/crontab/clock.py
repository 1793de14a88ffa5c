"""The <clock-server> of ZServer, for WSGI Zope.

Each ``<clock-server NAME>`` section of zope.conf (``%import
collective.crontab``) starts one daemon thread when the WSGI server starts.
Every ``period`` seconds, aligned to the wall clock, it publishes a GET to
``method`` through the Zope publisher, in-process: traversal,
authentication, transaction and ConflictError retries as for HTTP. Each call
runs in a thread of its own (a lane, with its own ZODB connection), so a
call that is still running does not hold the next beats; ``workers`` bounds
the calls at once, and a beat that finds every lane busy is skipped. A beat
whose calls all still run after HAND_OVER seconds (a long job came first)
starts one more, which runs the other jobs due (the running one's lease
is held).

The clock only starts in a process that serves HTTP (``runwsgi``, or
``bin/instance`` of plone.recipe.zope2instance), not in ``zconsole run``
scripts. The environment variable ``CRONTAB_CLOCK`` decides otherwise:
``off`` never starts it (e.g. on the clients that serve the site), ``on``
always does (other WSGI servers). It may be set in zope.conf's
``<environment>`` section.
"""

from AccessControl.SecurityManagement import newSecurityManager
from Acquisition import aq_base
from App.config import getConfiguration
from base64 import b64encode
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from urllib.parse import urlsplit
from zope.globalrequest import getRequest
from ZPublisher.BaseRequest import UNSPECIFIED_ROLES
from ZPublisher.httpexceptions import HTTPExceptionHandler
from ZPublisher.HTTPRequest import WSGIRequest
from ZPublisher.HTTPResponse import WSGIResponse
from ZPublisher.WSGIPublisher import publish_module

import logging
import os
import signal
import socket
import sys
import threading
import time


logger = logging.getLogger("collective.crontab.clock")

#: Environment variable: on | off | auto (default: only under a WSGI server).
SWITCH = "CRONTAB_CLOCK"
#: WSGI environ keys of in-process clock requests. A WSGI server turns
#: request headers into HTTP_* keys only, and only a ClockRequest reads them.
USER_KEY = "collective.crontab.clock.user"
REFUSAL_KEY = "collective.crontab.clock.refusal"
#: Seconds a stopping process waits for a tick in progress to finish.
STOP_GRACE = 20
USER_AGENT = "Zope Clock Server Client (collective.crontab)"
#: Seconds after which the calls of a beat that all still run (a long job
#: came first) hand the rest of the beat to one more call in a free lane.
HAND_OVER = 5

_clocks = []


@dataclass(frozen=True)
class ClockServer:
    """One <clock-server> section."""

    name: str
    method: str
    period: float = 60
    user: str = None
    password: str = None
    host: str = None
    workers: int = 3

    def getSectionName(self):  # Zope keys product_config by section name
        return self.name


def method(value):
    if not value.startswith("/"):
        raise ValueError(
            "clock-server method must be a path from the Zope root, "
            f"starting with '/', not {value!r}"
        )
    return value


def period(value):
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is None or not seconds > 0:
        raise ValueError(
            f"clock-server period must be a positive number of seconds, not {value!r}"
        )
    return int(seconds) if seconds.is_integer() else seconds


def workers(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(
            f"clock-server workers must be a whole number of at least 1, not {value!r}"
        )
    return number


def clock_server(section):
    """ZConfig datatype of the <clock-server> section."""
    if section.password and not section.user:
        raise ValueError(
            f'clock-server "{section.getSectionName()}": a password needs a user'
        )
    return ClockServer(
        name=section.getSectionName(),
        method=section.method,
        period=section.period,
        user=section.user,
        password=section.password,
        host=section.host,
        workers=section.workers,
    )


def next_beat(now, period):
    """The first multiple of ``period`` seconds (since the epoch) after
    ``now``: beats fall on the wall clock, like ZServer's."""
    return (now // period + 1) * period


class ClockRequest(WSGIRequest):
    """A request of a clock that has no password. The user folders know
    nothing of it: when Zope is about to refuse the request as anonymous
    (or the published object is public), the clock's user is looked up like
    a login, in the Zope root first and then in the site, and authorized on
    the published object as Zope does it. Requests from the network are
    never ClockRequests, whatever their headers."""

    _clock_tried = False

    def traverse(self, path, response=None, validated_hook=None):
        published = super().traverse(path, response, validated_hook)
        user = self.get("AUTHENTICATED_USER")
        if user is None or user.getUserName() == "Anonymous User":
            (response or self.response).unauthorized()
        return published

    def login(self):
        """Log the clock's user in; False (and why, in the environ) if it
        cannot be found or may not call the published object."""
        if self._clock_tried:
            return False
        self._clock_tried = True
        name = self.environ.get(USER_KEY)
        found = False
        for parent in reversed(self["PARENTS"]):
            if getattr(aq_base(parent), "__allow_groups__", None) is None:
                continue
            folder = parent.__allow_groups__
            user = folder.getUser(name)
            if user is None:
                continue
            found = True
            if _authorize(folder, user, self):
                user = aq_base(user).__of__(folder)
                newSecurityManager(self, user)
                self["AUTHENTICATED_USER"] = user
                return True
        self._orig_env[REFUSAL_KEY] = (
            f'user "{name}" may not call it' if found else f'user "{name}" not found'
        )
        return False


class ClockResponse(WSGIResponse):
    """The response to a ClockRequest: see there."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read by the clock, not a browser: never themed (the Diazo rules'
        # subrequest would be refused as the clock's).
        self.setHeader("X-Theme-Disabled", "1")

    def unauthorized(self):
        request = getRequest()
        if not (isinstance(request, ClockRequest) and request.login()):
            super().unauthorized()


def _authorize(folder, user, request):
    """Zope's check of a user on the published object, by ``folder``."""
    published = request["PUBLISHED"]
    if hasattr(folder, "_authorizeUser"):  # PluggableAuthService
        context = folder._getObjectContext(published, request)
        authorize = folder._authorizeUser
    else:
        context = folder._getobcontext(published, request)
        authorize = folder.authorize
    if request.roles is UNSPECIFIED_ROLES:
        return authorize(user, *context)
    return authorize(user, *context, request.roles)


class ClockThread(threading.Thread):
    """The thread of one <clock-server> section: it beats every ``period``
    seconds and publishes each call of ``method`` in a lane of its own."""

    def __init__(self, config, wall_time=time.time):
        super().__init__(name=f"clock-server {config.name}", daemon=True)
        self.config = config
        self.wall_time = wall_time  # seconds since the epoch
        self.stopping = threading.Event()
        self.due = None
        self.lanes = [None] * config.workers  # the call thread of each lane
        self.beat_calls = []  # the calls started for the latest beat
        self.hand_over_at = None

    def describe(self):
        user = self.config.user or "Anonymous"
        return (
            f'Clock server for "{self.config.method}" started '
            f"(user: {user}, period: {self.config.period})"
        )

    def run(self):
        logger.info(self.describe())
        while not self.stopping.wait(self.wait()):
            if self.wall_time() >= self.due:
                self.beat()
            else:
                self.hand_over()
        logger.info('Clock server for "%s" stopped', self.config.method)

    def wait(self):
        """Seconds until the next beat, or until the calls of this beat
        have run HAND_OVER seconds."""
        now = self.wall_time()
        if self.due is None:
            self.due = next_beat(now, self.config.period)
        until = self.due
        if self.hand_over_at is not None:
            until = min(until, self.hand_over_at)
        return max(0, until - now)

    def beat(self):
        """Start a call of ``method`` in a free lane: a call still running
        from an earlier beat (a long job) holds its lane, not the clock.
        When every lane is busy the beat is skipped (and logged), never
        run late. Returns the lane started, or None."""
        self.beat_calls = []
        lane = self.start_in_free_lane()
        if lane is None:
            logger.warning(
                'Clock "%s": all %d workers are still busy with earlier '
                "calls: beat skipped",
                self.config.method,
                self.config.workers,
            )
        due = self.due if self.due is not None else self.wall_time()
        self.due = max(
            due + self.config.period, next_beat(self.wall_time(), self.config.period)
        )
        return lane

    def hand_over(self):
        """Every call of this beat still runs HAND_OVER seconds on (a long
        job): one more call, in a free lane, runs the other jobs due now
        (it skips those whose lease is held). Returns the lane, or None."""
        self.hand_over_at = None
        if not self.beat_calls or not all(call.is_alive() for call in self.beat_calls):
            return None
        return self.start_in_free_lane()

    def start_in_free_lane(self):
        lane = next(
            (
                number
                for number, call in enumerate(self.lanes)
                if call is None or not call.is_alive()
            ),
            None,
        )
        if lane is not None:
            self.lanes[lane] = call = self.start_call(lane)
            self.beat_calls.append(call)
            self.hand_over_at = self.wall_time() + HAND_OVER
        return lane

    def start_call(self, lane):
        """The thread publishing one call in ``lane``, started."""
        call = threading.Thread(
            target=self.call_method,
            name=f"{self.name} worker {lane + 1}",
            daemon=True,
        )
        call.start()
        return call

    def calls(self):
        """The call threads still running."""
        return [call for call in self.lanes if call is not None and call.is_alive()]

    def call_method(self):
        """Publish one GET of ``method`` (in a ZODB connection of its own);
        log a failure in one line. Returns the status."""
        environ = self.environ()
        try:
            status, _body = publish(environ)
        except Exception as error:
            logger.error(
                'Clock "%s" failed: %s: %s',
                self.config.method,
                type(error).__name__,
                error,
            )
            logger.debug("Clock failure", exc_info=True)
            return None
        if status.startswith("2"):
            logger.debug(
                'Clock "%s": %s as %s',
                self.config.method,
                status,
                environ.get("REMOTE_USER", "Anonymous User"),
            )
        else:
            refusal = environ.get(REFUSAL_KEY)
            logger.error(
                'Clock "%s" failed: %s%s',
                self.config.method,
                status,
                f" ({refusal})" if refusal else "",
            )
        return status

    def environ(self):
        """The WSGI environ of one tick."""
        config = self.config
        url = urlsplit(config.method)
        host = config.host or socket.gethostname()
        name, _, port = host.partition(":")
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": name,
            "SERVER_PORT": port or "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "collective.crontab",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": host,
            "HTTP_USER_AGENT": USER_AGENT,
            "HTTP_ACCEPT": "application/json, text/html;q=0.9, */*;q=0.8",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if config.user and config.password:
            token = b64encode((f"{config.user}:{config.password}").encode())
            environ["HTTP_AUTHORIZATION"] = "Basic " + token.decode()
        elif config.user:
            environ[USER_KEY] = config.user
        return environ


def publish(environ):
    """Publish ``environ`` in-process as the WSGI server would (Zope's
    publisher behind its httpexceptions middleware). Returns the status
    line and the body."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        return lambda data: None

    factories = {}
    if USER_KEY in environ:
        factories = {
            "_request_factory": ClockRequest,
            "_response_factory": ClockResponse,
        }
    app = HTTPExceptionHandler(partial(publish_module, **factories))
    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return statuses[-1], body


def serving(environ=os.environ, modules=sys.modules):
    """Whether this process should run its clocks: see the module's doc."""
    choice = environ.get(SWITCH, "auto").strip().lower()
    if choice in ("on", "1", "yes", "true"):
        return True
    if choice in ("off", "0", "no", "false"):
        return False
    if "Zope2.utilities.zconsole" in modules:
        return False
    main = getattr(modules.get("__main__"), "__file__", None) or ""
    return "Zope2.Startup.serve" in modules or main.endswith(
        os.path.join("Zope2", "Startup", "serve.py")
    )


def configured():
    """The <clock-server> sections of zope.conf."""
    sections = getattr(getConfiguration(), "product_config", None) or {}
    return [value for value in sections.values() if isinstance(value, ClockServer)]


def start_clocks(event=None):
    """IProcessStarting: one thread per <clock-server> section."""
    sections = configured()
    if not sections or not serving():
        return
    for config in sections:
        clock = ClockThread(config)
        _clocks.append(clock)
        clock.start()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)
            if previous != signal.SIG_IGN:
                signal.signal(signum, partial(_stop_then, previous))


def stop_clocks(grace=STOP_GRACE):
    """Stop the clocks; the calls in progress may finish their
    transactions, all within ``grace`` seconds."""
    deadline = time.monotonic() + grace
    for clock in _clocks:
        clock.stopping.set()
    for clock in _clocks:
        clock.join(max(0, deadline - time.monotonic()))
        for call in clock.calls():
            call.join(max(0, deadline - time.monotonic()))
        running = len(clock.calls())
        if running:
            logger.warning(
                'Clock "%s": %d call(s) still running, not waiting for them',
                clock.config.method,
                running,
            )
    del _clocks[:]


def _stop_then(previous, signum, frame):
    """Stop the clocks on SIGTERM/SIGINT, then do what the signal did:
    the WSGI server stops and closes the databases."""
    stop_clocks()
    if callable(previous):
        return previous(signum, frame)
    raise SystemExit()
