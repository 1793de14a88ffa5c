"""A run that happened is never lost: recording it meets no other job's
claim, survives storage errors (a failed commit, one that raised after it
went through, an abort that raises), and what cannot be written now is
written by the next tick of the process, never left to expire as
"abandoned"."""

from collective.crontab import api
from collective.crontab import engine
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import read_job
from collective.crontab.state import Crontab
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from unittest import mock
from weakref import WeakKeyDictionary
from ZEO.Exceptions import ClientDisconnected
from zope.component import getGlobalSiteManager
from zope.component.hooks import getSite
from zope.component.hooks import setSite
from zope.interface import implementer

import threading
import transaction
import unittest


def _buckets(tree):
    bucket, oids = tree._firstbucket, set()
    while bucket is not None:
        oids.add(bucket._p_oid)
        bucket = bucket._next
    return oids


OID_COLLISION = ValueError("A different object already has the same oid")


class StorageError(Exception):
    """What RelStorage raises while PostgreSQL is down."""


class RecordingTestCase(TickTestCase):
    def setUp(self):
        super().setUp()
        self.patch(engine, "RECORD_PAUSE", 0)
        self.attempts = []

    def patch(self, owner, name, value):
        self.addCleanup(setattr, owner, name, getattr(owner, name))
        setattr(owner, name, value)

    def fail_records(self, *errors):
        """The next records' commits raise ``errors``, one per attempt,
        before anything is stored."""
        change = engine._Record.change
        pending = list(errors)

        def change_then_fail(record, crontab):
            self.attempts.append(record.job_id)
            change(record, crontab)
            if pending:
                error = pending.pop(0)

                def fail():
                    raise error

                transaction.get().addBeforeCommitHook(fail)

        self.patch(engine._Record, "change", change_then_fail)

    def in_other_connection(self, work):
        """``work(site)`` in another connection and thread: another client."""
        path = self.portal.getPhysicalPath()
        site_before = getSite()
        errors = []

        def other():
            connection = self.portal._p_jar.db().open()
            try:
                site = connection.root()["Application"].unrestrictedTraverse(path)
                setSite(site)
                work(site)
            except Exception as error:  # reported by the test thread
                errors.append(error)
            finally:
                setSite(None)
                transaction.abort()
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(60)
        setSite(site_before)
        self.assertEqual(errors, [])

    def statuses(self, job_id):
        return [run["status"] for run in api.history(job_id, limit=None)]


class TestOwnStateOnly(RecordingTestCase):
    def test_record_writes_only_the_jobs_own_state(self):
        # Another client claims another job while this one records: they
        # must share no object (the conflict would make the record retry,
        # and a storage that cannot resolve it made records give up).
        self.add("a-job")
        self.add("b-job")
        api.tick(T0)
        change = engine._Record.change
        written = []

        def claim_b_meanwhile(record, crontab):
            self.attempts.append(record.job_id)
            if record.job_id == "a-job" and len(self.attempts) == 1:
                self.in_other_connection(self.claim("b-job", T0 + minutes(1)))
            change(record, crontab)
            connection = crontab._p_jar
            transaction.get().addBeforeCommitHook(
                lambda: written.extend(connection._registered_objects)
            )

        self.patch(engine._Record, "change", claim_b_meanwhile)
        summary = api.tick(T0 + minutes(1))
        self.assertEqual(self.attempts, ["a-job"])
        self.assertEqual(self.statuses("a-job"), ["success"])
        self.assertEqual(summary["ran"][0]["job"], "a-job")
        state = self.crontab.state("a-job")
        own = {state._p_oid, state.runs._p_oid}
        own.update(run._p_oid for run in state.runs.values())
        for obj in written:
            if obj._p_oid not in own:
                self.assertEqual(type(obj).__name__, "LOBucket")  # of the history
                self.assertIn(obj._p_oid, _buckets(state.runs))

    def claim(self, job_id, now):
        def claim(site):
            crontab = engine.get_crontab(site)
            cache = engine._jobs_cache(site, crontab)
            job = read_job(job_id)
            engine._claim(crontab, job, now, engine.Summary(now, cache))

        return claim


class TestStorageErrors(RecordingTestCase):
    def run_once(self, job_id="job", runner="test.record"):
        self.add(job_id, runner=runner)
        api.tick(T0)
        return api.tick(T0 + minutes(1))

    def test_oid_collision_is_retried(self):
        # After a ZEO server restart a client may use an object id that the
        # restarted server gave another client.
        self.fail_records(OID_COLLISION, OID_COLLISION)
        summary = self.run_once()
        self.assertEqual(self.attempts, ["job"] * 3)
        self.assertEqual(self.statuses("job"), ["success"])
        self.assertEqual(summary["ran"][0]["status"], "success")
        self.assertIsNone(self.crontab.state("job").lease)

    def test_disconnect_is_retried(self):
        self.fail_records(ClientDisconnected(), StorageError("server closed"))
        self.run_once()
        self.assertEqual(self.statuses("job"), ["success"])

    def test_commit_that_raised_after_storing_is_not_recorded_twice(self):
        # ClientDisconnected on a commit that the ZEO server did store.
        commit = transaction.commit
        raised = []

        def commit_then_disconnect():
            commit()
            if self.attempts and not raised:
                raised.append(True)
                raise ClientDisconnected("connection lost after tpc_finish")

        self.fail_records()  # counts the attempts
        self.patch(transaction, "commit", commit_then_disconnect)
        self.run_once()
        self.assertEqual(raised, [True])
        self.assertEqual(self.attempts, ["job", "job"])
        self.assertEqual(self.statuses("job"), ["success"])
        self.assertIsNone(self.crontab.state("job").lease)

    def test_abort_that_raises_after_a_failed_run(self):
        # RelStorage polls the database when a transaction ends: during an
        # outage transaction.abort() itself raises.
        abort = transaction.abort
        armed = []

        @implementer(ICronRunner)
        class FailsInAnOutage:
            title = description = "fails, then its abort raises"

            def __call__(self, site, job):
                armed.append(True)
                raise StorageError("server closed the connection")

        def abort_in_outage():
            abort()
            if armed:
                armed.pop()
                raise StorageError("could not poll: server closed the connection")

        registry = getGlobalSiteManager()
        registry.registerUtility(FailsInAnOutage(), ICronRunner, "test.outage")
        self.addCleanup(
            registry.unregisterUtility, provided=ICronRunner, name="test.outage"
        )
        self.patch(transaction, "abort", abort_in_outage)
        summary = self.run_once(runner="test.outage")
        self.assertEqual(armed, [])
        self.assertEqual(self.statuses("job"), ["failure"])
        (run,) = api.history("job")
        self.assertEqual(run["message"], "StorageError: server closed the connection")
        self.assertEqual(summary["ran"][0]["status"], "failure")
        self.assertIsNone(self.crontab.state("job").lease)


class TestCommitRaisedAfterStoring(RecordingTestCase):
    """A ZEO client that loses its server during a commit the server
    stored sees ClientDisconnected: the run happened once, and the log
    says what it was (never a failure, a skipped slot or abandoned)."""

    def setUp(self):
        super().setUp()
        self.add("job", schedule="1 12 * * *", max_runtime=60)
        api.tick(T0)

    def disconnect_after_storing(self, name):
        """The storage stores the tick's transaction ``name`` ("claim",
        "take": what the engine gives ``_write``; "run": the runner's),
        then raises ClientDisconnected from tpc_finish, once."""
        storage, write = self.portal._p_jar.db().storage, engine._write
        tpc_finish = storage.tpc_finish
        armed, raised = [], []

        def write_watched(change, *args, **kwargs):
            def watched():
                result = change()
                if change.__name__ == name:
                    armed.append(True)
                return result

            return write(watched, *args, **kwargs)

        def finish_then_disconnect(txn, *args, **kwargs):
            run = txn.description.startswith(b"collective.crontab: job")
            tid = tpc_finish(txn, *args, **kwargs)
            if (armed or (run and name == "run")) and not raised:
                raised.append(True)
                raise ClientDisconnected("connection lost after tpc_finish")
            armed.clear()
            return tid

        self.patch(engine, "_write", write_watched)
        self.patch(storage, "tpc_finish", finish_then_disconnect)
        return raised

    def tick_elsewhere(self, now):
        """A tick of another client at ``now``; its summary."""
        summaries = []
        self.in_other_connection(lambda site: summaries.append(engine.tick(site, now)))
        transaction.begin()
        return summaries[0]

    def assert_ran_once(self, summary):
        self.assertEqual(self.ran("job"), ["ran"])
        self.assertEqual(self.statuses("job"), ["success"])
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["job"])
        self.assertEqual([entry["status"] for entry in summary["ran"]], ["success"])
        self.assertEqual((summary["skipped"], summary["lost"]), ([], []))
        self.assertIsNone(self.crontab.state("job").lease)
        later = self.tick_elsewhere(T0 + minutes(3))  # the lease expired
        self.assertEqual((later["abandoned"], later["ran"]), ([], []))
        self.assertEqual(self.statuses("job"), ["success"])
        self.assertEqual(self.ran("job"), ["ran"])

    def test_run_whose_commit_raised_after_storing_is_a_success(self):
        raised = self.disconnect_after_storing("run")
        with self.assertLogs("collective.crontab", "WARNING"):
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(raised, [True])
        self.assert_ran_once(summary)
        (run,) = api.history("job")
        self.assertEqual(
            run["message"],
            "recorded job\nits commit raised ClientDisconnected: connection "
            "lost after tpc_finish, but it was stored",
        )
        self.assertEqual(run["traceback"], "")

    def test_claim_whose_commit_raised_after_storing_runs_once(self):
        raised = self.disconnect_after_storing("claim")
        with self.assertLogs("collective.crontab", "WARNING") as logged:
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(raised, [True])
        self.assertIn("ClientDisconnected", logged.output[0])
        self.assert_ran_once(summary)

    def test_queued_run_whose_take_raised_after_storing_runs_once(self):
        api.update_job("job", enabled=False)  # runs only when queued
        api.run_now("job")
        transaction.commit()
        raised = self.disconnect_after_storing("take")
        with self.assertLogs("collective.crontab", "WARNING"):
            summary = api.tick(T0 + minutes(0.5))
        self.assertEqual(raised, [True])
        self.assertNotIn("job", self.crontab.queue)
        self.assert_ran_once(summary)

    def test_the_mark_of_a_run_meets_no_claim(self):
        # While the job runs, another client's tick writes its state (the
        # slot it skips): the run's commit, which marks its lease, must not
        # conflict with it.
        calls = []

        @implementer(ICronRunner)
        class ClaimedMeanwhile:
            title = description = "another client ticks while it runs"

            def __call__(runner, site, job):
                calls.append(job.id)
                if len(calls) > 1:
                    return  # a second attempt: the first one conflicted
                self.in_other_connection(
                    lambda other: engine.tick(other, T0 + minutes(2))
                )
                site.crontab_test_value = "run"

        registry = getGlobalSiteManager()
        registry.registerUtility(ClaimedMeanwhile(), ICronRunner, "test.meanwhile")
        self.addCleanup(
            registry.unregisterUtility, provided=ICronRunner, name="test.meanwhile"
        )
        self.add("busy", runner="test.meanwhile")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(calls, ["busy"])
        self.assertEqual(self.statuses("busy"), ["skipped", "success"])
        (_skipped, run) = api.history("busy")
        self.assertEqual(run["message"], "")
        self.assertEqual(self.portal.crontab_test_value, "run")
        self.assertIsNone(self.crontab.state("busy").lease)

    def test_run_whose_commit_raised_before_storing_is_a_failure(self):
        commit = transaction.commit
        raised = []

        def disconnect_then_commit():
            if transaction.get().description.startswith("collective.crontab: job"):
                raised.append(True)
                raise ClientDisconnected("connection lost before the vote")
            commit()

        self.patch(transaction, "commit", disconnect_then_commit)
        with self.assertLogs("collective.crontab", "WARNING"):
            api.tick(T0 + minutes(1))
        self.assertEqual(raised, [True])
        (run,) = api.history("job")
        self.assertEqual(run["status"], "failure")
        self.assertEqual(
            run["message"], "ClientDisconnected: connection lost before the vote"
        )
        self.assertEqual(self.ran("job"), [])
        self.assertIsNone(self.crontab.state("job").lease)


class TestRecordedLater(RecordingTestCase):
    def fail_one_tick(self):
        self.fail_records(*[StorageError("down")] * engine.RECORD_RETRIES)
        self.add("job", max_runtime=120)
        api.tick(T0)
        return api.tick(T0 + minutes(1))

    def test_written_at_the_next_tick(self):
        with self.assertLogs("collective.crontab", "ERROR") as logged:
            summary = self.fail_one_tick()
        self.assertEqual(self.attempts, ["job"] * engine.RECORD_RETRIES)
        self.assertIn("kept in memory", logged.output[-1])
        self.assertEqual(summary["ran"][0]["status"], "success")
        self.assertEqual(self.statuses("job"), [])
        self.assertIsNotNone(self.crontab.state("job").lease)
        summary = api.tick(T0 + minutes(2))
        self.assertEqual(self.statuses("job"), ["success", "success"])
        slots = [run["slot"] for run in api.history("job")]
        self.assertEqual(slots, [T0.replace(second=0) + minutes(m) for m in (2, 1)])
        self.assertEqual(summary["skipped"], [])
        self.assertIsNone(self.crontab.state("job").lease)

    def test_run_taken_for_dead_meanwhile_is_recorded_as_what_it_was(self):
        self.fail_one_tick()
        unrecorded = engine._unrecorded
        engine._unrecorded = WeakKeyDictionary()  # another client: no memory
        try:
            self.in_other_connection(lambda site: engine.tick(site, T0 + minutes(4)))
        finally:
            engine._unrecorded = unrecorded
        transaction.begin()
        self.assertIn("abandoned", self.statuses("job"))
        api.tick(T0 + minutes(5))
        self.assertNotIn("abandoned", self.statuses("job"))
        first = T0.replace(second=0) + minutes(1)
        runs = [run for run in api.history("job") if run["slot"] == first]
        self.assertEqual([run["status"] for run in runs], ["success"])
        state = self.crontab.state("job")
        self.assertEqual(state.count, len(state.runs))
        self.assertNotIn("a", [code for code, _at, _duration in state.recent])


class TestReleasedLease(RecordingTestCase):
    def test_an_expired_released_lease_is_read_once_and_never_written(self):
        # The record leaves the 'running' index alone: once the lease it
        # released expires there, a tick reads the job's state once.
        self.add("job", schedule="1 12 * * *", max_runtime=60)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertIsNotNone(self.crontab.running["job"])
        before = self.last_transaction()
        with mock.patch.object(
            engine, "_abandon", side_effect=engine._abandon
        ) as abandon:
            for minute in (2, 3):
                self.assertEqual(api.tick(T0 + minutes(minute))["abandoned"], [])
        self.assertEqual(abandon.call_count, 1)
        self.assertEqual(self.last_transaction(), before)
        self.assertEqual(self.statuses("job"), ["success"])


class TestClaimErrors(RecordingTestCase):
    def test_oid_collision_at_the_claim_is_retried(self):
        # After a ZEO server restart the claim's new objects may collide
        # too: the tick retries it instead of raising.
        self.add("job")
        api.tick(T0)
        state = Crontab.state
        failed = []

        def state_then_fail(crontab, job_id, create=False):
            if create and not failed:  # the claim's change: it commits next
                failed.append(True)

                def fail():
                    raise OID_COLLISION

                transaction.get().addBeforeCommitHook(fail)
            return state(crontab, job_id, create)

        self.patch(Crontab, "state", state_then_fail)
        with self.assertLogs("collective.crontab", "WARNING") as logged:
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(failed, [True])
        self.assertIn(
            "Retrying a transaction of the tick: ValueError", logged.output[0]
        )
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["job"])
        self.assertEqual(self.statuses("job"), ["success"])


class TestZEOReconnection(unittest.TestCase):
    def test_a_reconnected_client_forgets_its_prefetched_oids(self):
        from collective.crontab.zeo import forgetting_prefetched_oids
        from ZEO.ClientStorage import ClientStorage

        calls = []

        class Client:
            _oids = [b"\0" * 7 + b"\x07", b"\0" * 7 + b"\x08"]

        notify = forgetting_prefetched_oids(
            lambda self, conn, info: calls.append(list(self._oids))
        )
        client = Client()
        notify(client, "conn", {})
        self.assertEqual(client._oids, [])
        self.assertEqual(calls, [[]])
        self.assertTrue(ClientStorage.notify_connected.forgets_prefetched_oids)
