"""Two ticks at the same moment, each with its own ZODB connection."""

from AccessControl.SecurityManagement import newSecurityManager
from AccessControl.SecurityManagement import noSecurityManager
from collective.crontab import api
from collective.crontab.engine import tick
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from pathlib import Path
from plone.app.testing import PLONE_SITE_ID
from plone.app.testing import SITE_OWNER_NAME
from zope.component.hooks import setSite

import tempfile
import threading
import time
import transaction


class TestTwoTicksAtOnce(TickTestCase):
    def tick_in_threads(self, now, count=2):
        """Run ``count`` ticks at ``now`` in threads released together."""
        db = self.layer["zodbDB"]
        barrier = threading.Barrier(count)
        summaries = []
        errors = []

        def worker():
            connection = db.open()
            try:
                app = connection.root()["Application"]
                site = app[PLONE_SITE_ID]
                setSite(site)
                newSecurityManager(
                    None, app.acl_users.getUser(SITE_OWNER_NAME).__of__(app.acl_users)
                )
                barrier.wait()
                summaries.append(tick(site, now))
            except Exception as error:  # reported by the test thread
                errors.append(error)
            finally:
                transaction.abort()
                noSecurityManager()
                setSite(None)
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        transaction.abort()  # see what the threads committed
        setSite(self.portal)
        return summaries

    def test_each_slot_runs_exactly_once(self):
        job_ids = ["job-a", "job-b", "job-c"]
        for job_id in job_ids:
            self.add(job_id)
        self.tick_in_threads(T0)
        slots = 5
        for minute in range(1, slots + 1):
            summaries = self.tick_in_threads(T0 + minutes(minute))
            ran = [entry["job"] for summary in summaries for entry in summary["ran"]]
            self.assertEqual(sorted(ran), job_ids)
        for job_id in job_ids:
            self.assertEqual(self.ran(job_id), ["ran"] * slots)
            runs = api.history(job_id, limit=None)
            self.assertEqual(len(runs), slots)
            self.assertEqual(len({run["slot"] for run in runs}), slots)


class TestLanes(TickTestCase):
    """Two ticks of one process (two clock lanes, or two WSGI threads): the
    one busy with a long run hides nothing from the other."""

    def start_tick(self, now, summaries):
        db = self.layer["zodbDB"]

        def worker():
            connection = db.open()
            try:
                app = connection.root()["Application"]
                site = app[PLONE_SITE_ID]
                setSite(site)
                newSecurityManager(
                    None, app.acl_users.getUser(SITE_OWNER_NAME).__of__(app.acl_users)
                )
                summaries.append(tick(site, now))
            finally:
                transaction.abort()
                noSecurityManager()
                setSite(None)
                connection.close()

        thread = threading.Thread(target=worker)
        thread.start()
        return thread

    def test_a_long_run_does_not_hold_the_other_jobs_of_its_tick(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        release = Path(folder.name) / "release"
        self.add("a-long", runner="test.block", arguments={"release": str(release)})
        self.add("b-short")
        api.tick(T0)
        first, second = [], []
        busy = self.start_tick(T0 + minutes(1), first)
        for _attempt in range(300):
            if Path(f"{release}.started").exists():
                break
            time.sleep(0.1)
        self.start_tick(T0 + minutes(1), second).join(60)
        release.write_text("")
        busy.join(60)
        self.assertEqual([entry["job"] for entry in second[0]["ran"]], ["b-short"])
        self.assertEqual([entry["job"] for entry in first[0]["ran"]], ["a-long"])
        transaction.abort()
        setSite(self.portal)
        self.assertEqual(self.ran("b-short"), ["ran"])
