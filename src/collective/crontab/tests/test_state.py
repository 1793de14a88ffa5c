"""The run log: bounded history, bounded bytes per appended run."""

from collective.crontab.schedule import UTC
from collective.crontab.state import Crontab
from collective.crontab.state import JobState
from collective.crontab.state import StoredRuns
from datetime import datetime
from datetime import timedelta
from ZODB.DB import DB
from ZODB.FileStorage import FileStorage

import os
import tempfile
import transaction
import unittest


START = datetime(2026, 1, 1, tzinfo=UTC)


def run(index, message="ok"):
    started = START + timedelta(minutes=index)
    return {
        "slot": started,
        "started": started,
        "finished": started + timedelta(seconds=1),
        "duration": 1.0,
        "status": "success",
        "message": message,
        "traceback": "",
        "client": "test:1",
    }


class TestBytesPerRun(unittest.TestCase):
    """Appending one run rewrites a bounded number of bytes, whatever the
    history length (measured as Data.fs growth of a real FileStorage)."""

    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.db = DB(FileStorage(os.path.join(self.folder.name, "Data.fs")))
        self.connection = self.db.open()

    def tearDown(self):
        transaction.abort()
        self.connection.close()
        self.db.close()
        self.folder.cleanup()

    def bytes_per_run(self, existing, appends=20, limit=100000):
        root = self.connection.root()
        state = root[f"state-{existing}"] = JobState()
        for index in range(existing):
            state.append(limit, **run(index))
            if index % 1000 == 999:
                transaction.commit()
        transaction.commit()
        sizes = []
        for index in range(existing, existing + appends):
            before = self.db.getSize()
            state.append(limit, **run(index))
            transaction.commit()
            sizes.append(self.db.getSize() - before)
        return sorted(sizes)[len(sizes) // 2]

    def test_bytes_per_run_do_not_grow_with_history(self):
        short = self.bytes_per_run(10)
        long = self.bytes_per_run(10000)
        print(f"\nbytes per run: {short} with 10 runs, {long} with 10,000 runs")
        self.assertLessEqual(long, short * 1.5)
        self.assertLessEqual(long, 4096)

    def test_trimmed_history_keeps_newest(self):
        state = JobState()
        for index in range(10):
            state.append(3, **run(index))
        self.assertEqual(state.count, 3)
        self.assertEqual(len(state.runs), 3)
        minutes = [entry["started"].minute for entry in state.history()]
        self.assertEqual(minutes, [9, 8, 7])

    def test_filter_by_status(self):
        state = JobState()
        state.append(10, **run(0))
        state.append(10, **dict(run(1), status="failure", message="boom"))
        self.assertEqual(
            [entry["message"] for entry in state.history(status="failure")], ["boom"]
        )

    def test_recent_strip_holds_twenty(self):
        state = JobState()
        for index in range(30):
            state.append(100, **run(index))
        self.assertEqual(len(state.recent), 20)
        self.assertEqual(state.recent[0][1], run(29)["started"].timestamp())

    def test_same_start_time_kept_apart(self):
        state = JobState()
        state.append(10, **run(0, "first"))
        state.append(10, **run(0, "second"))
        self.assertEqual(state.count, 2)
        self.assertEqual(
            {entry["message"] for entry in state.history()}, {"first", "second"}
        )


class TestConcurrentClients(unittest.TestCase):
    """Two clients writing the shared BTrees for different jobs must merge,
    not conflict: a lease released while another job's is taken (a run that
    happened must get recorded), claims of different jobs (``handled``)."""

    def clients(self, crontab):
        """Two connections with their transaction managers, on one
        FileStorage (it resolves conflicts) holding ``crontab``."""
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        db = DB(FileStorage(os.path.join(folder.name, "Data.fs")))
        self.addCleanup(db.close)
        first, second = (
            transaction.TransactionManager(),
            transaction.TransactionManager(),
        )
        one = db.open(transaction_manager=first)
        one.root()["crontab"] = crontab
        first.commit()
        two = db.open(transaction_manager=second)
        return (one.root()["crontab"], first), (two.root()["crontab"], second)

    def test_release_and_claim_of_different_jobs_merge(self):
        crontab = Crontab()
        crontab.running["a-job"] = START
        (one, first), (two, second) = self.clients(crontab)
        two.running["b-job"] = START  # claim b
        one.running["a-job"] = None  # release a
        first.commit()
        second.commit()  # a ConflictError here would lose the claim
        first.begin()
        self.assertEqual(dict(one.running), {"a-job": None, "b-job": START})

    def test_claims_of_different_jobs_merge(self):
        crontab, later = Crontab(), START + timedelta(minutes=1)
        crontab.handled.update({"a-job": START, "b-job": START})
        (one, first), (two, second) = self.clients(crontab)
        two.handled["b-job"] = later  # client 2 claims b
        one.handled["a-job"] = later  # client 1 claims a
        first.commit()
        second.commit()  # a ConflictError here would cost b's slot
        first.begin()
        self.assertEqual(dict(one.handled), {"a-job": later, "b-job": later})

    def test_the_stored_runs_of_overlapping_runs_merge(self):
        # A run that outlived its lease and the next run of the job both
        # note in ``stored`` that their transaction stored.
        crontab = Crontab()
        crontab.state("job", create=True).stored = StoredRuns()
        crontab.state("job").stored.add("earlier")
        (one, first), (two, second) = self.clients(crontab)
        two.state("job").stored.add("late")  # the run that outlived its lease
        one.state("job").stored.add("next")  # the next run
        first.commit()
        second.commit()  # a ConflictError here would run it again
        first.begin()
        stored = one.state("job").stored
        self.assertEqual(stored.tokens, ("late", "next", "earlier"))
        self.assertNotIn("other", stored)


class TestStoredRuns(unittest.TestCase):
    def test_the_last_runs_are_kept(self):
        stored = StoredRuns()
        for index in range(StoredRuns.KEEP + 2):
            stored.add(str(index))
        self.assertEqual(len(stored.tokens), StoredRuns.KEEP)
        self.assertIn(str(StoredRuns.KEEP + 1), stored)
        self.assertNotIn("0", stored)
