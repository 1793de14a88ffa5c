"""Faults inside one process: runs that outlive max_runtime, runners whose
commit meets a real ConflictError, and races lost to another connection."""

from collective.crontab import api
from collective.crontab import engine
from collective.crontab.jobs import read_job
from collective.crontab.state import Lease
from collective.crontab.status import Status
from collective.crontab.tests.base import FakeClock
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from weakref import WeakKeyDictionary
from zope.component.hooks import getSite
from zope.component.hooks import setSite

import threading
import transaction


class TestOverlong(TickTestCase):
    def setUp(self):
        super().setUp()
        self.clock = engine.current_time = FakeClock(T0)
        self.addCleanup(setattr, engine, "current_time", engine.utcnow)

    def run_taking(self, seconds, max_runtime=3600):
        self.add(
            "slow",
            runner="test.takes",
            max_runtime=max_runtime,
            arguments={"seconds": str(seconds)},
        )
        api.tick(T0)
        self.clock.now = T0 + minutes(1)
        api.tick(T0 + minutes(1))
        (run,) = api.history("slow")
        return run

    def test_run_over_max_runtime_is_flagged(self):
        run = self.run_taking(2 * 3600 + 600)
        self.assertEqual(run["status"], "warning")
        self.assertEqual(run["message"], "done\nran 2h10m, limit 1h")
        self.assertEqual(run["duration"], 7800)

    def test_run_within_max_runtime_is_a_success(self):
        run = self.run_taking(3600)
        self.assertEqual((run["status"], run["message"]), ("success", "done"))

    def test_limit_in_minutes(self):
        run = self.run_taking(400, max_runtime=300)
        self.assertEqual(run["message"], "done\nran 6m40s, limit 5m")

    def test_overlong_run_does_not_release_the_next_runs_lease(self):
        # The run of 12:01 took 2 h; meanwhile its lease expired and the
        # 14:00 run took a new one, which its end must leave alone.
        self.add("slow", runner="test.record", max_runtime=60)
        api.tick(T0)
        state = self.crontab.state("slow")
        old = Lease(T0, T0, engine.CLIENT, T0 + minutes(1))
        new = Lease(T0 + minutes(120), T0, "other", T0 + minutes(121))
        state.lease = new
        self.crontab.running["slow"] = new.expires
        transaction.commit()
        summary = engine.Summary(T0, engine._jobs_cache(self.portal, self.crontab))
        job = read_job("slow")
        outcome = engine.Outcome(
            Status.WARNING, "ran 2h, limit 1m", "", T0, T0 + minutes(120)
        )
        engine._record(self.crontab, job, T0, outcome, summary, old)
        self.assertEqual(self.crontab.state("slow").lease, new)
        self.assertEqual(self.crontab.running["slow"], new.expires)
        self.assertEqual([run["status"] for run in api.history("slow")], ["warning"])


class TestLongLast(TickTestCase):
    def setUp(self):
        super().setUp()
        self.clock = engine.current_time = FakeClock(T0)
        self.addCleanup(setattr, engine, "current_time", engine.utcnow)

    def test_a_job_known_to_be_long_starts_after_the_short_ones(self):
        # "a-long" comes first by name; once its runs are known to take
        # 10 minutes, the short jobs of the same slot run before it.
        self.add("a-long", runner="test.takes", arguments={"seconds": "600"})
        self.add("b-short")
        self.add("c-short")
        api.tick(T0)
        first = api.tick(T0 + minutes(1))
        self.assertEqual(
            [entry["job"] for entry in first["ran"]], ["a-long", "b-short", "c-short"]
        )
        second = api.tick(T0 + minutes(2))
        self.assertEqual(
            [entry["job"] for entry in second["ran"]], ["b-short", "c-short", "a-long"]
        )


class TestConflicts(TickTestCase):
    """The runner writes to the site; in its first attempts another
    connection commits a write to the site first: a real ConflictError."""

    def run_conflicting(self, job_id, conflicts):
        self.add(
            job_id, runner="test.conflict", arguments={"conflicts": str(conflicts)}
        )
        api.tick(T0)
        return api.tick(T0 + minutes(1))

    def test_retried_after_a_conflict(self):
        summary = self.run_conflicting("retried", 1)
        (run,) = api.history("retried")
        self.assertEqual((run["status"], run["message"]), ("success", "attempt 2"))
        self.assertEqual(len(summary["ran"]), 1)
        transaction.begin()
        self.assertEqual(self.portal.crontab_test_value, "runner attempt 2")

    def test_failure_after_bounded_retries(self):
        summary = self.run_conflicting("hopeless", 1000)
        (run,) = api.history("hopeless")
        self.assertEqual(run["status"], "failure")
        self.assertEqual(
            run["message"],
            f"Gave up after {engine.CONFLICT_RETRIES} conflicting attempts",
        )
        self.assertIn("ConflictError", run["traceback"])
        self.assertEqual([entry["status"] for entry in summary["ran"]], ["failure"])
        transaction.begin()
        self.assertEqual(self.portal.crontab_test_value, "other connection")
        self.assertIsNone(self.crontab.state("hopeless").lease)

    def test_slot_not_run_again_after_a_failure(self):
        self.run_conflicting("once", 1000)
        api.tick(T0 + minutes(1))
        self.assertEqual(len(api.history("once")), 1)


class TestLostRace(TickTestCase):
    def tick_in_other_connection(self, now):
        """Another client: its own connection and transaction manager, in
        its own thread, ticking the same site to its end."""
        result = {}
        path = self.portal.getPhysicalPath()

        def other():
            connection = self.portal._p_jar.db().open()
            try:
                site = connection.root()["Application"].unrestrictedTraverse(path)
                setSite(site)
                result["summary"] = engine.tick(site, now)
                transaction.commit()
            finally:
                setSite(None)
                transaction.abort()
                connection.close()

        caches = engine._caches  # another process has a cache of its own
        engine._caches = WeakKeyDictionary()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        engine._caches = caches
        return result["summary"]

    def test_loser_writes_nothing_and_names_the_winner(self):
        self.add("raced")
        api.tick(T0)
        transaction.begin()
        self.assertEqual(self.crontab.handled["raced"], T0)  # read: now stale
        site = getSite()
        winner = self.tick_in_other_connection(T0 + minutes(1))
        setSite(site)
        self.assertEqual(len(winner["ran"]), 1)
        before = self.last_transaction()
        loser = api.tick(T0 + minutes(1))
        self.assertEqual(loser["ran"], [])
        self.assertEqual(
            loser["lost"],
            [
                {
                    "job": "raced",
                    "slot": (T0 + minutes(1)).replace(second=0).isoformat(),
                    "to": engine.CLIENT,
                }
            ],
        )
        self.assertEqual(self.last_transaction(), before)
        self.assertEqual(len(api.history("raced")), 1)
        self.assertEqual(self.ran("raced"), ["ran"])

    def test_loser_runs_only_the_slots_the_winner_left(self):
        # The loser planned 12:01 and 12:02 from a stale state; the winner
        # ran 12:01 meanwhile. The claim plans again from the committed
        # state: 12:01 is not run twice.
        self.add("raced")
        api.tick(T0)
        transaction.begin()
        self.assertEqual(self.crontab.handled["raced"], T0)
        site = getSite()
        self.tick_in_other_connection(T0 + minutes(1))
        setSite(site)
        loser = api.tick(T0 + minutes(2))
        self.assertEqual([entry["slot"][11:16] for entry in loser["ran"]], ["12:02"])
        slots = sorted(run["slot"].strftime("%H:%M") for run in api.history("raced"))
        self.assertEqual(slots, ["12:01", "12:02"])
