"""The clock in a real WSGI server process (runwsgi), built by instance.py
with 1-second clocks, and the tick view over real HTTP, as cron + curl."""

from collective.crontab import instance
from collective.crontab.testing import listen_port
from pathlib import Path
from plone.testing import Layer

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request


PORT = listen_port(10)
BIN = Path(sys.executable).parent
TICK = "/Plone/@@crontab-tick"
#: Besides instance.py's password-less clock: two clocks that must fail.
MORE_CLOCKS = """
<clock-server wrong-password>
  method /Plone/@@crontab-tick?clock=wrong-password
  period 1
  user admin
  password wrong
  host localhost
</clock-server>
<clock-server unknown-user>
  method /Plone/@@crontab-tick?clock=unknown-user
  period 1
  user nobody
  host localhost
</clock-server>
"""
GOOD_TICK = 'Clock "/Plone/@@crontab-tick": 200 OK as crontab-clock'
WRONG_PASSWORD = (
    'Clock "/Plone/@@crontab-tick?clock=wrong-password" failed: 401 Unauthorized'
)
UNKNOWN_USER = (
    'Clock "/Plone/@@crontab-tick?clock=unknown-user" failed: '
    '302 Found (user "nobody" not found)'
)


def wait_for(condition, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}")


class InstanceLayer(Layer):
    """One instance home with a Plone site, shared by the process tests."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="crontab-clock-")
        home = instance.write_instance(
            Path(self.tmp.name) / "instance", port=PORT, clock=TICK, clock_period=1
        )
        with open(home / "etc" / "zope.conf", "a") as conf:
            conf.write(MORE_CLOCKS)
        ini = home / "etc" / "zope.ini"
        # The clock logs its successful ticks at DEBUG.
        text = re.sub(
            r"(\[logger_collective\.crontab\]\nlevel = )INFO",
            r"\1DEBUG",
            ini.read_text(),
        )
        ini.write_text(
            re.sub(r"(\[handler_eventlog\](?:\n.*)*?\nlevel = )INFO", r"\1DEBUG", text)
        )
        self["home"] = home
        self["password"] = instance.create_site(home, "Plone")

    def tearDown(self):
        self.tmp.cleanup()


INSTANCE = InstanceLayer(name="collective.crontab:Instance")


class Server:
    """runwsgi on the layer's instance; its output and event log."""

    def __init__(self, home):
        self.home = home
        self.event_log = home / "var" / "log" / "event.log"
        self.offset = self.event_log.stat().st_size if self.event_log.exists() else 0
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 -- read at the end
        self.process = subprocess.Popen(
            [str(BIN / "runwsgi"), str(home / "etc" / "zope.ini")],
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.listening, what="the server to listen")

    def listening(self):
        assert self.process.poll() is None, self.text()
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", PORT)) == 0

    def log(self):
        """The event log written since this server started."""
        with open(self.event_log, "rb") as log:
            log.seek(self.offset)
            return log.read().decode()

    def text(self):
        self.output.seek(0)
        return self.output.read().decode()

    def count(self, line):
        return self.log().count(line)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
        return self.process.returncode


def get(path, headers=None, user=None, password=None):
    """(status, headers, body) of a GET, like ``curl -u user:password``."""
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if user:
        token = base64.b64encode((f"{user}:{password}").encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class RunningServerLayer(Layer):
    """The server, once every clock has ticked three times."""

    defaultBases = (INSTANCE,)

    def setUp(self):
        self["server"] = server = Server(self["home"])
        for line in (GOOD_TICK, WRONG_PASSWORD, UNKNOWN_USER):
            wait_for(lambda line=line: server.count(line) >= 3, what=line)

    def tearDown(self):
        self["server"].stop()
        self["server"].output.close()
        del self["server"]


class StoppedServerLayer(Layer):
    """A server stopped with SIGTERM after its first tick."""

    defaultBases = (INSTANCE,)

    def setUp(self):
        self["server"] = server = Server(self["home"])
        wait_for(lambda: server.count(GOOD_TICK) >= 1, what="a tick")
        self["returncode"] = server.stop()

    def tearDown(self):
        self["server"].output.close()
        del self["server"], self["returncode"]


RUNNING = RunningServerLayer(name="collective.crontab:RunningServer")
STOPPED = StoppedServerLayer(name="collective.crontab:StoppedServer")


class RunningServerTests(unittest.TestCase):
    layer = RUNNING

    def setUp(self):
        self.server = self.layer["server"]

    def test_clock_starts_with_the_classic_line(self):
        self.assertIn(
            'Clock server for "/Plone/@@crontab-tick" started '
            "(user: crontab-clock, period: 1)",
            self.server.log(),
        )

    def test_clock_ticks_every_second_as_its_user(self):
        ticks = re.findall(
            r"^(\S+ \S+) DEBUG \[collective\.crontab\.clock\] "
            + re.escape(GOOD_TICK)
            + "$",
            self.server.log(),
            re.M,
        )
        self.assertGreaterEqual(len(ticks), 3)
        self.assertEqual(len(ticks), len(set(ticks)), "two ticks in one second")

    def test_wrong_password_fails_every_tick_and_the_clock_goes_on(self):
        before = self.server.count(WRONG_PASSWORD)
        wait_for(
            lambda: self.server.count(WRONG_PASSWORD) > before, 10, "one more tick"
        )

    def test_unknown_user_fails_every_tick_with_the_reason(self):
        before = self.server.count(UNKNOWN_USER)
        wait_for(lambda: self.server.count(UNKNOWN_USER) > before, 10, "one more tick")

    def test_curl_with_credentials_gets_the_json_summary(self):
        status, headers, body = get(TICK, user="admin", password=INSTANCE["password"])
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        summary = json.loads(body)
        self.assertEqual(summary["client"], f"127.0.0.1:{PORT}")
        self.assertIn("ran", summary)

    def test_curl_without_credentials_gets_401(self):
        status, headers, body = get(TICK)
        self.assertEqual(status, 401)
        self.assertIn("Basic", headers["WWW-Authenticate"])
        self.assertIn("error", json.loads(body))

    def test_curl_with_a_wrong_password_gets_401(self):
        status, _, _ = get(TICK, user="admin", password="wrong")
        self.assertEqual(status, 401)

    def test_http_request_cannot_pose_as_the_passwordless_clock(self):
        forged = {
            "Collective.Crontab.Clock.User": "crontab-clock",
            "Collective-Crontab-Clock-User": "crontab-clock",
            "Remote-User": "crontab-clock",
            "User-Agent": "Zope Clock Server Client (collective.crontab)",
        }
        status, _, _ = get(TICK, headers=forged)
        self.assertEqual(status, 401)


class StoppingTests(unittest.TestCase):
    layer = STOPPED

    def setUp(self):
        self.server = self.layer["server"]

    def test_sigterm_stops_the_server(self):
        self.assertEqual(self.layer["returncode"], 0)

    def test_every_clock_says_it_stopped(self):
        log = self.server.log()
        self.assertEqual(log.count("Clock server for"), 6, log)
        self.assertEqual(log.count('" stopped'), 3, log)

    def test_no_traceback(self):
        self.assertNotIn("Traceback", self.server.text())
        self.assertNotIn("Traceback", self.server.log())


class ZconsoleTests(unittest.TestCase):
    """``zconsole run`` loads the same zope.conf: no clock may tick in it."""

    layer = INSTANCE
    SCRIPT = (
        "import threading, time; time.sleep(1.5); "
        "print(sorted(t.name for t in threading.enumerate()))"
    )

    def threads(self, **environ):
        with tempfile.NamedTemporaryFile("w", suffix=".py") as script:
            script.write(self.SCRIPT)
            script.flush()
            done = subprocess.run(
                [
                    str(BIN / "zconsole"),
                    "run",
                    str(INSTANCE["home"] / "etc" / "zope.conf"),
                    script.name,
                ],
                capture_output=True,
                text=True,
                env=dict(os.environ, **environ),
                check=True,
            )
        return done.stdout.strip().splitlines()[-1]

    def test_zconsole_run_starts_no_clock(self):
        self.assertNotIn("clock-server", self.threads())

    def test_environment_can_force_the_clock_on(self):
        self.assertIn("clock-server tick", self.threads(CRONTAB_CLOCK="on"))
