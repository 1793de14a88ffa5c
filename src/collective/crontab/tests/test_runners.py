"""The built-in runners, run through the tick like any job."""

from collective.crontab import api
from collective.crontab.engine import run_as
from collective.crontab.jobs import Job
from collective.crontab.runners.pack import PackDatabase
from collective.crontab.runners.vocabulary import runners_vocabulary
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from OFS.Application import Application
from OFS.Folder import Folder
from plone.app.testing import SITE_OWNER_NAME
from Products.CMFCore.utils import getToolByName
from ZODB.DB import DB
from ZODB.FileStorage import FileStorage

import os
import tempfile
import transaction


class RunnerTestCase(TickTestCase):
    def run_job(self, job_id, runner, **fields):
        self.add(job_id, runner=runner, **fields)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history(job_id)
        return run


class TestCallView(RunnerTestCase):
    def test_calls_view_with_query_string(self):
        run = self.run_job(
            "search-count",
            "collective.crontab.call-view",
            arguments={"path": "@@search?SearchableText=nothing-matches-this"},
        )
        self.assertEqual(run["status"], "success", run["message"])
        self.assertIn("<html", run["message"])

    def test_path_required(self):
        run = self.run_job("no-path", "collective.crontab.call-view")
        self.assertEqual(run["status"], "failure")
        self.assertIn("argument 'path' is required", run["message"])

    def test_unknown_path(self):
        run = self.run_job(
            "bad-path",
            "collective.crontab.call-view",
            arguments={"path": "no/such/thing"},
        )
        self.assertEqual(run["status"], "failure")
        self.assertIn("no", run["message"])

    def test_runs_with_owner_rights_only(self):
        acl_users = getToolByName(self.portal, "acl_users")
        acl_users.userFolderAddUser("editor", "secret-password", ["Editor"], [])
        transaction.commit()
        run = self.run_job(
            "escalate",
            "collective.crontab.call-view",
            owner="editor",
            arguments={"path": "@@overview-controlpanel"},
        )
        self.assertEqual(run["status"], "failure")
        self.assertIn("Unauthorized", run["message"])


class TestPack(RunnerTestCase):
    def test_pack_as_zope_root_manager_shrinks_filestorage(self):
        """The test site lives in a DemoStorage; pack a real FileStorage."""
        with tempfile.TemporaryDirectory() as folder:
            db = DB(FileStorage(os.path.join(folder, "Data.fs")))
            try:
                connection = db.open()
                app = connection.root()["Application"] = Application()
                app._setObject("site", Folder("site"))
                app.acl_users._doAddUser("admin", "secret-password", ["Manager"], [])
                for revision in range(50):
                    app.site.title = f"revision {revision}"
                    transaction.commit()
                before = db.getSize()
                job = Job(
                    id="pack", runner="collective.crontab.pack", arguments={"days": "0"}
                )
                with run_as(app, "admin"):
                    message = PackDatabase()(app.site, job)
                self.assertLess(db.getSize(), before)
                self.assertIn(
                    f"keeping 0 days: {before} -> {db.getSize()} bytes", message
                )
                connection.close()
            finally:
                db.close()

    def test_pack_refused_for_site_manager_without_root_rights(self):
        run = self.run_job("pack", "collective.crontab.pack")
        self.assertEqual(run["status"], "failure")
        self.assertIn("right to manage the Zope root", run["message"])

    def test_pack_refused_for_site_administrator(self):
        acl_users = getToolByName(self.portal, "acl_users")
        acl_users.userFolderAddUser(
            "siteadmin", "secret-password", ["Site Administrator"], []
        )
        transaction.commit()
        run = self.run_job("pack", "collective.crontab.pack", owner="siteadmin")
        self.assertEqual(run["status"], "failure")
        self.assertIn("right to manage the Zope root", run["message"])

    def test_days_must_be_a_number(self):
        run = self.run_job(
            "pack",
            "collective.crontab.pack",
            owner=SITE_OWNER_NAME,
            arguments={"days": "a week"},
        )
        self.assertEqual(run["status"], "failure")
        self.assertIn("argument 'days' must be a number", run["message"])


class TestCountContent(RunnerTestCase):
    def test_counts_catalog(self):
        run = self.run_job("count", "collective.crontab.content-count")
        count = len(getToolByName(self.portal, "portal_catalog").searchResults())
        self.assertEqual(run["message"], f"{count} items in the catalog")


class TestVocabulary(TickTestCase):
    def test_lists_registered_runners(self):
        names = [term.value for term in runners_vocabulary(self.portal)]
        for name in (
            "collective.crontab.pack",
            "collective.crontab.call-view",
            "collective.crontab.content-count",
            "test.record",
        ):
            self.assertIn(name, names)


class TestCallViewIsolation(RunnerTestCase):
    def test_error_status_of_called_view_is_a_failure_and_not_the_ticks(self):
        request = self.layer["request"]
        run = self.run_job(
            "health",
            "collective.crontab.call-view",
            arguments={"path": "@@crontab-health"},
        )
        # The last tick was at T0, months before the real now: health says 503.
        self.assertEqual(run["status"], "failure")
        self.assertIn("answered HTTP 503", run["message"])
        self.assertEqual(request.response.getStatus(), 200)
