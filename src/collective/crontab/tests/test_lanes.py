"""Long jobs on a real clock: a runwsgi instance whose 60-second
<clock-server> (3 workers) ticks a site with a job that takes 3 minutes and
a job every minute. The minutely job runs at every slot, on time, while the
long one runs. Meanwhile two overlapping tick requests over HTTP (cron +
curl) on a second site behave the same way, in the WSGI server's threads.
Level 2: ``make test`` runs it; it takes about five minutes."""

from collective.crontab import instance
from collective.crontab.testing import listen_port
from collective.crontab.tests.cluster import TEST_ZCML
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from plone.testing import Layer

import base64
import json
import math
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request


PORT = listen_port(30)
BIN = Path(sys.executable).parent
CLIENT_SCRIPT = Path(__file__).parent / "zeo_client.py"
LONG = 180  # seconds the long job takes
CURL_LONG = 20  # seconds the long job of the cron + curl site takes
LEAD = 15  # at least this many seconds from arming the jobs to the first slot
ON_TIME = 10  # a run that starts this many seconds after its slot is on time
SLOTS = 4  # slots of the minutely job from the long job's start to its end
READ = """
import json, sys
out = {}
for site_id in ("Plone", "Curl"):
    crontab = app[site_id].__annotations__["collective.crontab"]
    out[site_id] = {
        job_id: {
            "runs": [
                dict(run.as_dict(), slot=run.slot.isoformat(),
                     started=run.started.isoformat(),
                     finished=run.finished.isoformat())
                for run in state.runs.values()
            ],
            "lease": bool(state.lease),
        }
        for job_id, state in crontab.states.items()
    }
print(json.dumps(out))
"""


def zconsole(home, script, *args):
    done = subprocess.run(
        [str(BIN / "zconsole"), "run", str(home / "etc" / "zope.conf"), script, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def get(path, password, data=None):
    """(start, end, JSON answer) of a request as the admin, as curl does;
    with ``data``, a JSON POST."""
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}")
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request.add_header("Authorization", "Basic " + token)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    start = time.time()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.loads(response.read())
    return start, time.time(), body


def sleep_until(at):
    time.sleep(max(0, at - time.time()))


class LanesRun(Layer):
    """Builds the instance, runs it through the long job, keeps the logs."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="crontab-lanes-")
        folder = Path(self.tmp.name)
        home = instance.write_instance(
            folder / "instance",
            port=PORT,
            clock="/Plone/@@crontab-tick",
            clock_period=60,
            zcml=[TEST_ZCML],
        )
        password = instance.create_site(home, "Plone")
        instance.create_site(home, "Curl", password=password)
        self.add_jobs(home, folder)
        with open(home / "var" / "log" / "server.log", "w") as output:
            server = subprocess.Popen(
                [str(BIN / "runwsgi"), str(home / "etc" / "zope.ini")],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                self.wait_for_server(server)
                # Arm at least LEAD seconds before a minute: the first slot
                # is the next one, for both jobs (the clock beats on it).
                if math.ceil(time.time() / 60) * 60 - time.time() < LEAD:
                    sleep_until(math.ceil(time.time() / 60) * 60 + 1)
                first = math.ceil(time.time() / 60) * 60
                self["first"] = datetime.fromtimestamp(first, UTC)
                get("/Plone/@crontab", password, self.long_job())
                get("/Plone/@@crontab-tick", password)  # arms the jobs
                self["curl"] = self.overlapping_requests(password, first + 60)
                sleep_until(first + max((SLOTS - 1) * 60 + ON_TIME, LONG + 5))
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
        self["log"] = (home / "var" / "log" / "event.log").read_text()
        out = zconsole(home, str(self.write(folder, READ)))
        self["sites"] = json.loads(out.splitlines()[-1])

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, folder, text, name="read.py"):
        path = folder / name
        path.write_text(text)
        return path

    def long_job(self):
        """The long job, once a minute an hour: at the first slot only."""
        return {
            "id": "a-long",
            "title": "a-long",
            "runner": "test.sleep",
            "arguments": {"seconds": str(LONG)},
            "schedule": f"{self['first'].minute} * * * *",
            "timezone": "UTC",
            "max_runtime": 600,
        }

    def add_jobs(self, home, folder):
        plone = {"b-minutely": {"runner": "test.record", "schedule": "* * * * *"}}
        curl = {
            "a-long": {
                "runner": "test.sleep",
                "arguments": {"seconds": str(CURL_LONG)},
                "schedule": "* * * * *",
            },
            "b-short": {"runner": "test.record", "schedule": "* * * * *"},
        }
        steps = []
        for site_id, jobs in (("Plone", plone), ("Curl", curl)):
            jobs = {
                job_id: dict(fields, title=job_id) for job_id, fields in jobs.items()
            }
            path = self.write(folder, json.dumps(jobs), f"{site_id}.json")
            steps += [f"site={site_id}", f"jobs={path}"]
        zconsole(home, str(CLIENT_SCRIPT), *steps)

    def wait_for_server(self, server, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert server.poll() is None, "runwsgi ended"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not listen within {timeout} s")

    def overlapping_requests(self, password, slot):
        """Arm the cron + curl site 30 s before ``slot``; 1 s after it, tick
        it, and 3 s later tick it again while the first request still runs
        its long job."""
        sleep_until(slot - 30)
        get("/Curl/@@crontab-tick", password)
        results = {}

        def first_request():
            results["first"] = get("/Curl/@@crontab-tick", password)

        sleep_until(slot + 1)
        thread = threading.Thread(target=first_request)
        thread.start()
        sleep_until(slot + 4)
        results["second"] = get("/Curl/@@crontab-tick", password)
        thread.join(CURL_LONG + 60)
        return results


LANES = LanesRun(name="collective.crontab:LanesRun")


class TestLongJobs(unittest.TestCase):
    layer = LANES
    level = 2

    def runs(self, job_id, site_id="Plone"):
        return self.layer["sites"][site_id][job_id]["runs"]

    def test_minutely_job_runs_at_every_slot_on_time_during_the_long_one(self):
        first = self.layer["first"]
        expected = [first + timedelta(minutes=m) for m in range(SLOTS)]
        runs = self.runs("b-minutely")
        slots = [datetime.fromisoformat(run["slot"]) for run in runs]
        late = {
            run["slot"]: round(
                (
                    datetime.fromisoformat(run["started"])
                    - datetime.fromisoformat(run["slot"])
                ).total_seconds(),
                1,
            )
            for run in runs
        }
        (long_run,) = self.runs("a-long")
        during = [
            slot
            for slot in slots
            if datetime.fromisoformat(long_run["started"])
            <= slot
            <= datetime.fromisoformat(long_run["finished"])
        ]
        on_time = [slot for slot, delay in late.items() if delay <= ON_TIME]
        print(
            f"\nlanes: long job {long_run['duration']:.0f} s; minutely job: "
            f"{len(expected)} slots expected, {len(runs)} ran, "
            f"{len(slots) - len(set(slots))} duplicates, "
            f"{len(set(expected) - set(slots))} misses, {len(on_time)} on time "
            f"(<= {ON_TIME} s), {len(during)} during the long run; "
            f"seconds late by slot: {sorted(late.values())}",
            file=sys.stderr,
        )
        self.assertEqual(sorted(slots), expected)
        self.assertEqual([run["status"] for run in runs], ["success"] * SLOTS)
        self.assertEqual(len(on_time), SLOTS, late)
        self.assertGreaterEqual(len(during), SLOTS - 1)

    def test_long_job_ran_once_and_its_next_beats_skipped_nothing(self):
        (run,) = self.runs("a-long")
        self.assertEqual(run["status"], "success")
        self.assertGreaterEqual(run["duration"], LONG)
        self.assertNotIn("beat skipped", self.layer["log"])
        self.assertNotIn("Traceback", self.layer["log"])

    def test_nothing_abandoned_or_left_running(self):
        for site_id, jobs in self.layer["sites"].items():
            for job_id, data in jobs.items():
                statuses = {run["status"] for run in data["runs"]}
                self.assertNotIn("abandoned", statuses, (site_id, job_id))
                self.assertFalse(data["lease"], (site_id, job_id))

    def test_overlapping_curl_requests_run_in_the_servers_threads(self):
        curl = self.layer["curl"]
        first_start, first_end, first = curl["first"]
        second_start, second_end, second = curl["second"]
        self.assertEqual([entry["job"] for entry in first["ran"]], ["a-long"])
        self.assertEqual([entry["job"] for entry in second["ran"]], ["b-short"])
        self.assertLess(second_end, first_end - CURL_LONG / 2)
        self.assertLess(second_end - second_start, ON_TIME)
        self.assertGreaterEqual(first_end - first_start, CURL_LONG)
        self.assertEqual(first["skipped"], [])
        (short,) = self.runs("b-short", "Curl")
        self.assertEqual(short["status"], "success")
