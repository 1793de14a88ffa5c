"""Faults with real processes on a real ZEO server, and on RelStorage with
a real PostgreSQL: a client killed in the middle of a run, and the server
restarted under a ticking client. Times are injected. Level 2: ``make test``
runs it."""

from collections import Counter
from collective.crontab.instance import create_site
from collective.crontab.schedule import utcnow
from collective.crontab.tests.cluster import RELSTORAGE_CLUSTER
from collective.crontab.tests.cluster import ZEO_CLUSTER
from datetime import timedelta
from pathlib import Path

import json
import signal
import sys
import time
import unittest


RUNS = ("success", "warning", "failure")


def at(moment):
    return f"tick={moment.isoformat()}"


def utc_minute(plus):
    """The start of the current UTC minute, plus ``plus``."""
    return utcnow().replace(second=0, microsecond=0) + plus


def wait_for(path, timeout=60):
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.1)


class TestCrash(unittest.TestCase):
    layer = ZEO_CLUSTER
    level = 2

    def test_killed_run_is_abandoned_and_the_next_slot_runs(self):
        cluster = self.layer
        create_site(cluster.homes["c1"], site_id="Crash")
        release = cluster.dir / "release"
        started = Path(f"{release}.started")
        jobs = cluster.write(
            "crash.json",
            {
                "crashy": {
                    "title": "Crashy",
                    "runner": "test.block",
                    "schedule": "* * * * *",
                    "max_runtime": 30,
                    "arguments": {"release": str(release)},
                },
            },
        )
        armed = utc_minute(timedelta(minutes=2, seconds=30))
        slot = armed + timedelta(seconds=30)
        # c1 arms the job, then runs its first slot: the runner blocks.
        victim = cluster.client(
            "c1",
            "site=Crash",
            f"jobs={jobs}",
            at(armed),
            at(slot + timedelta(seconds=10)),
        )
        self.addCleanup(victim.kill)
        wait_for(started)
        self.assertEqual(started.read_text(), slot.isoformat())
        runs, _titles, leases = cluster.read("Crash")
        self.assertEqual(leases["crashy"]["client"], "c1")
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        self.assertEqual(victim.returncode, -signal.SIGKILL)
        release.touch()
        # c2 ticks before the lease expires (slot + 10 s + 30 s), after it,
        # and in the next slot.
        before, after, next_slot = cluster.run(
            "c2",
            "site=Crash",
            at(slot + timedelta(seconds=35)),
            at(slot + timedelta(seconds=45)),
            at(slot + timedelta(seconds=65)),
        )
        self.assertEqual((before["abandoned"], before["ran"]), ([], []))
        self.assertEqual(after["abandoned"], [{"job": "crashy"}])
        self.assertEqual(after["ran"], [])
        self.assertEqual(
            [(run["job"], run["slot"], run["status"]) for run in next_slot["ran"]],
            [("crashy", (slot + timedelta(minutes=1)).isoformat(), "success")],
        )
        runs, _titles, leases = cluster.read("Crash")
        ledger = sorted(
            (run["slot"], run["status"], run["client"]) for run in runs["crashy"]
        )
        self.assertEqual(
            ledger,
            [(slot, "abandoned", "c1"), (slot + timedelta(minutes=1), "success", "c2")],
        )
        self.assertEqual(leases, {})
        (abandoned,) = [run for run in runs["crashy"] if run["status"] == "abandoned"]
        self.assertIn(
            "did not finish within its maximum run time", abandoned["message"]
        )
        print(
            f"\ncrash on {cluster.storage_name}: 1 client killed, 1 run "
            "abandoned, the next slot ran once",
            file=sys.stderr,
        )

    def test_run_ending_while_the_server_is_down_is_recorded(self):
        """The server stops while a run is in progress and comes back after
        it ended: the run is in the log (not left to expire as abandoned)
        and its client goes on ticking."""
        cluster = self.layer
        create_site(cluster.homes["c2"], site_id="Outage")
        release = cluster.dir / "outage-release"
        started = Path(f"{release}.started")
        restarted = cluster.dir / "outage-restarted"
        jobs = cluster.write(
            "outage.json",
            {
                "blocky": {
                    "title": "Blocky",
                    "runner": "test.block",
                    "schedule": "* * * * *",
                    "max_runtime": 30,
                    "arguments": {"release": str(release)},
                },
            },
        )
        armed = utc_minute(timedelta(minutes=2, seconds=30))
        slot = armed + timedelta(seconds=30)
        client = cluster.client(
            "c2",
            "site=Outage",
            f"jobs={jobs}",
            at(armed),
            at(slot + timedelta(seconds=10)),
            f"wait={restarted}",
            at(slot + timedelta(seconds=20)),
            at(slot + timedelta(seconds=65)),
        )
        self.addCleanup(client.kill)
        wait_for(started)
        cluster.stop_server()
        release.touch()
        time.sleep(3)  # the runner returns and the run ends with no server
        cluster.start_server()
        restarted.touch()
        out, _err = client.communicate(timeout=120)
        self.assertEqual(client.returncode, 0, out)
        runs, _titles, leases = cluster.read("Outage")
        ledger = sorted(
            (run["slot"], run["status"], run["client"]) for run in runs["blocky"]
        )
        print(
            f"\nrun ending during a {cluster.storage_name} outage: "
            + ", ".join(f"{at:%H:%M} {status} on {by}" for at, status, by in ledger),
            file=sys.stderr,
        )
        self.assertEqual(len(ledger), 2, ledger)
        (ended, _status, by), next_slot = ledger
        self.assertEqual((ended, by), (slot, "c2"))
        self.assertIn(_status, RUNS)
        self.assertEqual(next_slot, (slot + timedelta(minutes=1), "success", "c2"))
        self.assertEqual(leases, {})

    def test_server_restart_under_a_ticking_client_then_catch_up_policy(self):
        cluster = self.layer
        create_site(cluster.homes["c3"], site_id="Restart")
        restarted = cluster.dir / "restarted"
        jobs = cluster.write(
            "restart.json",
            {
                job_id: {
                    "title": job_id,
                    "runner": "collective.crontab.content-count",
                    "schedule": "0 * * * *",
                    "catch_up": policy,
                }
                for job_id, policy in (("late-skip", "skip"), ("late-once", "once"))
            },
        )
        hour = utc_minute(timedelta(hours=2)).replace(minute=0)
        client = cluster.client(
            "c3",
            "site=Restart",
            f"jobs={jobs}",
            at(hour - timedelta(minutes=30)),
            at(hour + timedelta(minutes=1)),
            f"wait={restarted}",
            at(hour + timedelta(hours=3, minutes=20)),
            at(hour + timedelta(hours=4, minutes=1)),
        )
        self.addCleanup(client.kill)
        before = [json.loads(client.stdout.readline()) for step in range(3)]
        self.assertEqual(len(before[2]["ran"]), 2)
        cluster.stop_server()
        time.sleep(2)
        cluster.start_server()
        restarted.touch()
        out, _err = client.communicate(timeout=120)
        self.assertEqual(client.returncode, 0)
        late, next_hour = [json.loads(line) for line in out.splitlines()]
        # Three hours later: 1:00, 2:00 and 3:00 were missed.
        self.assertEqual(
            sorted((entry["job"], entry["slot"]) for entry in late["missed"]),
            [
                ("late-once", (hour + timedelta(hours=1)).isoformat()),
                ("late-skip", (hour + timedelta(hours=1)).isoformat()),
            ],
        )
        # 'once' runs the latest of them, 3:00 (1:00-2:00 stay missed).
        self.assertEqual(
            [(entry["job"], entry["slot"]) for entry in late["ran"]],
            [("late-once", (hour + timedelta(hours=3)).isoformat())],
        )
        self.assertEqual(
            sorted((entry["job"], entry["slot"]) for entry in next_hour["ran"]),
            [
                (job_id, (hour + timedelta(hours=4)).isoformat())
                for job_id in ("late-once", "late-skip")
            ],
        )
        runs, _titles, _leases = cluster.read("Restart")
        for job_id, catch_up in (("late-skip", []), ("late-once", [3])):
            ran = Counter(run["slot"] for run in runs[job_id] if run["status"] in RUNS)
            self.assertEqual(set(ran.values()), {1}, job_id)
            self.assertEqual(
                sorted(ran),
                [hour + timedelta(hours=n) for n in [0, *catch_up, 4]],
                job_id,
            )
            missed = [run["slot"] for run in runs[job_id] if run["status"] == "missed"]
            self.assertEqual(missed, [hour + timedelta(hours=1)], job_id)


class TestCrashRelStorage(TestCrash):
    layer = RELSTORAGE_CLUSTER
