"""The mechanisms behind the benchmark's figures (bench/, docs/benchmark.rst),
checked by counting, never by timing."""

from collective.crontab import api
from collective.crontab import engine
from collective.crontab import schedule
from collective.crontab.jobs import validate
from collective.crontab.jobs import write_job
from collective.crontab.state import JobState
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import timedelta
from pathlib import Path
from statistics import mean
from unittest import mock
from ZODB.DB import DB
from ZODB.FileStorage import FileStorage

import tempfile
import transaction
import unittest


JOBS = 120


class TestIdleTick(TickTestCase):
    def setUp(self):
        super().setUp()
        for index in range(JOBS):
            job_id = f"job-{index:03d}"
            values = {
                "title": job_id,
                "runner": "test.record",
                "schedule": f"{index % 60} 3 * * *",
            }
            write_job(job_id, validate(job_id, values))
        self.add("every-minute", enabled=False)
        api.tick(T0)  # arms the jobs and beats

    def spy(self, owner, name):
        patcher = mock.patch.object(
            owner, name, autospec=True, side_effect=getattr(owner, name)
        )
        calls = patcher.start()
        self.addCleanup(patcher.stop)
        return calls

    def test_idle_tick_commits_nothing(self):
        before = self.last_transaction()
        for minute in range(1, 4):
            summary = api.tick(T0 + minutes(minute))
            self.assertEqual(summary["ran"], [])
            self.assertEqual(summary["jobs"], JOBS + 1)
            self.assertEqual(self.portal._p_jar._registered_objects, [])
        self.assertEqual(self.last_transaction(), before)

    def test_idle_tick_neither_reads_the_registry_nor_parses_cron(self):
        read_job = self.spy(engine, "read_job")
        parse = self.spy(schedule.Schedule, "__init__")
        evaluate = self.spy(schedule.Schedule, "next_after")
        api.tick(T0 + minutes(1))
        api.tick(T0 + minutes(2))
        self.assertEqual(read_job.call_count, 0)
        self.assertEqual(parse.call_count, 0)
        self.assertEqual(evaluate.call_count, 0)

    def test_changed_job_rebuilds_the_cache_once_from_the_index(self):
        rebuilds = self.spy(engine, "_JobsCache")
        read_job = self.spy(engine, "read_job")
        api.update_job("job-007", title="Renamed")
        transaction.commit()
        api.tick(T0 + minutes(1))
        api.tick(T0 + minutes(2))
        self.assertEqual(rebuilds.call_count, 1)
        self.assertEqual(read_job.call_count, 0)  # none is due

    def test_tick_looks_only_at_jobs_that_may_be_due(self):
        looked_at = self.spy(engine, "_tick_job")
        api.tick(T0 + minutes(1))
        self.assertEqual(looked_at.call_count, 0)
        summary = api.tick(T0.replace(hour=3, minute=0, second=10) + timedelta(days=1))
        due = [f"job-{index:03d}" for index in range(0, JOBS, 60)]
        self.assertEqual([entry["job"] for entry in summary["ran"]], due)
        self.assertEqual([call.args[3].id for call in looked_at.call_args_list], due)


class TestHistoryAppend(unittest.TestCase):
    """A run appended to a long history writes what it writes to a short one."""

    APPENDS = 100

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.path = Path(folder.name) / "Data.fs"
        self.storage = FileStorage(str(self.path))
        db = DB(self.storage)
        self.addCleanup(db.close)
        self.connection = db.open()
        self.addCleanup(transaction.abort)

    def run_at(self, state, limit, started):
        state.append(
            limit,
            slot=started,
            started=started,
            finished=started,
            duration=0.01,
            status="success",
            message="ok",
            traceback="",
            client="host:1234",
        )

    def appends(self, limit):
        """Fill a history to ``limit`` runs, then append more (each trims
        the oldest); return (objects, bytes) written by each append."""
        root = self.connection.root()
        state = root[limit] = JobState()
        for index in range(limit):
            self.run_at(state, limit, T0 + timedelta(seconds=index))
        transaction.commit()
        written = []
        for index in range(self.APPENDS):
            before, size = self.storage.lastTransaction(), self.path.stat().st_size
            self.run_at(state, limit, T0 + timedelta(days=1, minutes=index))
            transaction.commit()
            (objects,) = [
                len(list(txn))
                for txn in self.storage.iterator(before)
                if txn.tid != before
            ]
            written.append((objects, self.path.stat().st_size - size))
        self.assertEqual(len(state.runs), limit)
        self.assertEqual(state.count, limit)
        return written

    def test_append_to_long_history_touches_a_bounded_number_of_objects(self):
        short = self.appends(10)
        long_ = self.appends(10000)
        # The job state, the run and the one bucket of a short history; a
        # long one also trims a bucket at its far end, and every few appends
        # a bucket splits or empties and its parents are rewritten.
        self.assertEqual(max(objects for objects, _ in short), 3)
        self.assertLessEqual(mean(objects for objects, _ in long_), 5)
        self.assertLessEqual(max(objects for objects, _ in long_), 15)

    def test_append_to_long_history_writes_few_more_bytes(self):
        short = mean(size for _, size in self.appends(10))
        long_ = mean(size for _, size in self.appends(10000))
        self.assertLessEqual(long_ / short, 1.5)
        self.assertLess(long_, 4096)


class TestArming(TickTestCase):
    def setUp(self):
        super().setUp()
        for index in range(JOBS):
            job_id = f"job-{index:03d}"
            values = {"title": job_id, "runner": "test.record", "schedule": "0 3 * * *"}
            write_job(job_id, validate(job_id, values))
        transaction.commit()

    def test_first_tick_arms_new_jobs_in_batches(self):
        with (
            mock.patch.object(engine, "ARM_BATCH", 50),
            mock.patch.object(engine, "_write", side_effect=engine._write) as writes,
        ):
            api.tick(T0)
        self.assertEqual(writes.call_count, 3 + 1)  # 120 jobs by 50, the heartbeat
        for index in range(JOBS):
            self.assertEqual(self.crontab.handled[f"job-{index:03d}"], T0)
        self.assertEqual(api.tick(T0 + minutes(1))["ran"], [])

    def test_first_tick_neither_reads_nor_writes_the_new_jobs_states(self):
        states = [self.crontab.state(f"job-{index:03d}") for index in range(JOBS)]
        serials = [state._p_serial for state in states]
        self.portal._p_jar.cacheMinimize()
        with mock.patch.object(engine, "read_job", wraps=engine.read_job) as reads:
            api.tick(T0)
        self.assertEqual(reads.call_count, 0)  # nor their records
        self.assertEqual([state._p_changed for state in states], [None] * JOBS)
        self.assertEqual([state._p_serial for state in states], serials)
        self.assertEqual(len(self.crontab.handled), JOBS)
