"""Exactly once across clients: three Zope client processes tick one site
for three minutes, at the same instants; one of them is killed (SIGKILL,
between two runs) and the database server is restarted in the middle; on a
real ZEO server, and on RelStorage with a real PostgreSQL. Level 2: ``make
test`` runs it."""

from collections import Counter
from collective.crontab.tests.cluster import CLIENTS
from collective.crontab.tests.cluster import RELSTORAGE_CLUSTER
from collective.crontab.tests.cluster import ZEO_CLUSTER
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from plone.testing import Layer

import json
import signal
import sys
import time
import unittest


DURATION = 180  # seconds of ticking: the issue asks for at least 3 minutes
INTERVAL = 6  # every client ticks at every multiple of 6 s: 10 times a minute
OUTAGE = 10  # seconds the database server is down
KILLED = "c3"  # the client killed at second 45 of the first minute it ran
RUNS = ("success", "warning", "failure")
JOBS = {
    "content": {"runner": "test.slot-document"},
    "count": {"runner": "collective.crontab.content-count"},
    "warn": {"runner": "test.warn"},
    "who": {"runner": "test.whoami"},
}


def minute_slots(after, until):
    slot = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while slot <= until:
        yield slot
        slot += timedelta(minutes=1)


class ExactlyOnceRun(Layer):
    """Arms the jobs, runs the three clients once with a kill and a server
    restart in the middle, and keeps what they did for the tests. Its base
    is the cluster."""

    def setUp(self):
        started = time.time()
        (cluster,) = self.__bases__
        self["cluster"] = cluster
        jobs = {
            job_id: dict(fields, title=job_id, schedule="* * * * *")
            for job_id, fields in JOBS.items()
        }
        _added, armed = cluster.run(
            "c1", "jobs={}".format(cluster.write("jobs.json", jobs)), "tick="
        )
        logs = {name: cluster.dir / (f"{name}.jsonl") for name in CLIENTS}
        processes = {
            name: cluster.client(name, f"loop={DURATION},{INTERVAL},{logs[name]}")
            for name in CLIENTS
        }
        self["killed"], self["outage"] = self.disturb(
            cluster, processes[KILLED], started=time.time()
        )
        for process in processes.values():
            process.communicate(timeout=DURATION + 120)
        self["returncodes"] = {
            name: process.returncode for name, process in processes.items()
        }
        self["ticks"] = ticks = {
            name: [json.loads(line) for line in logs[name].read_text().splitlines()]
            for name in CLIENTS
        }
        summaries = [
            tick["summary"]
            for lines in ticks.values()
            for tick in lines
            if "summary" in tick
        ]
        until = max(datetime.fromisoformat(summary["now"]) for summary in summaries)
        self["summaries"] = summaries
        self["expected"] = list(
            minute_slots(datetime.fromisoformat(armed["now"]), until)
        )
        self["runs"], self["titles"], self["leases"] = cluster.read()
        self["elapsed"] = time.time() - started

    def disturb(self, cluster, victim, started):
        """Kill ``victim`` at second 45 of the first minute after a slot
        (between the runs, which start at second 0), and stop the server
        from second 21 to 31 of a minute, after the clients ran a slot.
        Returns the time of the kill and (stopped, restarted)."""
        killed = outage = None
        while killed is None or outage is None:
            time.sleep(1 - time.time() % 1)
            now = time.time()
            second = int(now) % 60
            if killed is None and second == 45 and now - started > 45:
                victim.send_signal(signal.SIGKILL)
                killed = now
            if outage is None and second == 21 and now - started > 75:
                cluster.stop_server()
                time.sleep(OUTAGE)
                cluster.start_server()
                outage = (now, time.time())
        return killed, outage


EXACTLY_ONCE = ExactlyOnceRun(
    bases=(ZEO_CLUSTER,), name="collective.crontab:ExactlyOnceRun"
)
EXACTLY_ONCE_RELSTORAGE = ExactlyOnceRun(
    bases=(RELSTORAGE_CLUSTER,), name="collective.crontab:RelStorageExactlyOnceRun"
)


class TestExactlyOnce(unittest.TestCase):
    layer = EXACTLY_ONCE
    level = 2

    def __getattr__(self, name):
        if name in (
            "cluster",
            "elapsed",
            "killed",
            "returncodes",
            "outage",
            "ticks",
            "summaries",
            "expected",
            "runs",
            "titles",
            "leases",
        ):
            return self.layer[name]
        raise AttributeError(name)

    def slots_run(self, job_id):
        return Counter(
            datetime.isoformat(run["slot"])
            for run in self.runs[job_id]
            if run["status"] in RUNS
        )

    def test_every_slot_of_every_job_ran_exactly_once(self):
        expected = {slot.isoformat() for slot in self.expected}
        ran = {job_id: self.slots_run(job_id) for job_id in JOBS}
        duplicates = {
            job_id: {slot: count for slot, count in slots.items() if count > 1}
            for job_id, slots in ran.items()
        }
        misses = {job_id: expected - set(slots) for job_id, slots in ran.items()}
        abandoned = [
            run
            for job_id in JOBS
            for run in self.runs[job_id]
            if run["status"] == "abandoned"
        ]
        lost = sum(len(summary["lost"]) for summary in self.summaries)
        print(
            f"\nexactly once on {self.cluster.storage_name}: {len(CLIENTS)} "
            f"clients, {len(JOBS)} jobs x {len(expected)} slots = "
            f"{len(JOBS) * len(expected)} expected, "
            f"{sum(sum(slots.values()) for slots in ran.values())} runs, "
            f"{sum(sum(d.values()) - len(d) for d in duplicates.values())} "
            f"duplicates, {sum(map(len, misses.values()))} misses, "
            f"{len(abandoned)} abandoned, {lost} lost races, "
            f"{len(self.errors())} failed ticks during the outage, "
            f"{self.elapsed:.0f} s",
            file=sys.stderr,
        )
        self.assertGreaterEqual(len(expected), 3)
        for job_id in JOBS:
            self.assertEqual(duplicates[job_id], {}, job_id)
            self.assertEqual(misses[job_id], set(), job_id)
            self.assertEqual(set(ran[job_id]), expected, job_id)

    def test_no_slot_skipped_missed_or_abandoned(self):
        for job_id in JOBS:
            statuses = Counter(run["status"] for run in self.runs[job_id])
            self.assertEqual(set(statuses) - set(RUNS), set(), job_id)
        self.assertEqual(self.leases, {})

    def test_runs_succeeded(self):
        for job_id in JOBS:
            statuses = {run["status"] for run in self.runs[job_id]}
            self.assertEqual(
                statuses, {"warning"} if job_id == "warn" else {"success"}, job_id
            )

    def test_content_committed_once_per_slot(self):
        titles = Counter(self.titles)
        expected = Counter(f"content {slot.isoformat()}" for slot in self.expected)
        self.assertEqual(titles, expected)

    def test_log_names_the_client_that_ran_each_slot(self):
        clients = {run["client"] for job_id in JOBS for run in self.runs[job_id]}
        self.assertTrue(clients)
        self.assertLessEqual(clients, set(CLIENTS))

    def test_lost_races_name_the_winner_and_are_not_logged_twice(self):
        winners = {
            (job_id, run["slot"].isoformat()): run["client"]
            for job_id in JOBS
            for run in self.runs[job_id]
        }
        for name, ticks in self.ticks.items():
            for tick in ticks:
                for lost in tick.get("summary", {}).get("lost", ()):
                    self.assertNotEqual(lost["to"], name)
                    self.assertEqual(winners[(lost["job"], lost["slot"])], lost["to"])

    def errors(self):
        return [
            tick for ticks in self.ticks.values() for tick in ticks if "error" in tick
        ]

    def test_the_others_run_the_slots_after_a_client_is_killed(self):
        self.assertEqual(self.returncodes[KILLED], -signal.SIGKILL)
        self.assertEqual(
            {name: code for name, code in self.returncodes.items() if name != KILLED},
            {name: 0 for name in CLIENTS if name != KILLED},
        )
        killed = datetime.fromtimestamp(self.killed, UTC)
        later = [
            run for job_id in JOBS for run in self.runs[job_id] if run["slot"] > killed
        ]
        self.assertTrue(later)
        self.assertNotIn(KILLED, {run["client"] for run in later})
        self.assertLess(max(tick["at"] for tick in self.ticks[KILLED]), self.killed)

    def test_clients_reconnect_after_the_server_restart(self):
        stopped, restarted = self.outage
        for name, ticks in self.ticks.items():
            if name == KILLED:
                continue  # killed before or after the restart
            during = [
                tick["connected"]
                for tick in ticks
                if stopped < tick["at"] < restarted - 1
            ]
            after = [
                tick["connected"] for tick in ticks if tick["at"] > restarted + INTERVAL
            ]
            self.assertIn(False, during, name)
            self.assertTrue(after, name)
            self.assertNotIn(False, after, name)
        for error in self.errors():
            self.assertGreater(error["at"], stopped - 1)
            self.assertLess(error["at"], restarted + 1)


class TestExactlyOnceRelStorage(TestExactlyOnce):
    layer = EXACTLY_ONCE_RELSTORAGE
