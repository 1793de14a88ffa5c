"""The control panel, through zope.testbrowser against a real Plone site."""

from collective.crontab import api
from collective.crontab.log import get_crontab
from collective.crontab.schedule import utcnow
from collective.crontab.testing import FUNCTIONAL_TESTING
from collective.crontab.tests.runners import traces
from datetime import timedelta
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.testing.zope import Browser
from urllib.error import HTTPError
from zope.component.hooks import setSite

import re
import transaction
import unittest


PASSWORD = "secret-password-1"


class PanelTestCase(unittest.TestCase):
    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.portal_url = self.portal.absolute_url()
        self.panel_url = self.portal_url + "/@@crontab-controlpanel"
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        for user_id, roles in (
            ("siteadmin", ["Site Administrator"]),
            ("editor", ["Editor"]),
            ("member", ["Member"]),
        ):
            self.portal.acl_users.userFolderAddUser(user_id, PASSWORD, roles, [])
        transaction.commit()

    def browser(self, user="siteadmin"):
        browser = Browser(self.app)
        browser.handleErrors = False
        if user == SITE_OWNER_NAME:
            browser.addHeader(
                "Authorization", "Basic %s:%s" % (SITE_OWNER_NAME, SITE_OWNER_PASSWORD)
            )
        elif user:
            browser.addHeader("Authorization", "Basic %s:%s" % (user, PASSWORD))
        return browser

    def add(self, job_id, runner="test.record", schedule="0 3 * * *", **fields):
        setSite(self.portal)
        fields.setdefault("title", job_id.title())
        job = api.add_job(job_id, runner=runner, schedule=schedule, **fields)
        transaction.commit()
        return job

    def tick(self, now=None):
        setSite(self.portal)
        summary = api.tick(now=now)
        transaction.commit()
        return summary

    def job(self, job_id):
        self.portal._p_jar.sync()
        setSite(self.portal)
        try:
            return api.get_job(job_id)
        except KeyError:
            return None

    def row(self, browser, job_id):
        match = re.search(
            r'<tr[^>]*id="job-%s".*?</tr>' % re.escape(job_id), browser.contents, re.S
        )
        self.assertIsNotNone(match, "no row for %s" % job_id)
        return match.group(0)


class TestJobList(PanelTestCase):
    def test_list_shows_schedule_in_words_timezone_runner_and_next_run(self):
        self.add("nightly", title="Nightly cleanup", timezone="Europe/Berlin")
        browser = self.browser()
        browser.open(self.panel_url)
        row = self.row(browser, "nightly")
        self.assertIn("Nightly cleanup", row)
        self.assertIn("0 3 * * *", row)
        self.assertIn("At 03:00", row)
        self.assertIn("Europe/Berlin", row)
        self.assertIn("Test runner", row)
        self.assertRegex(row, r"in \d+ (h|min|d)")
        self.assertIn("Never ran", row)


class TestHistory(PanelTestCase):
    def test_history_lists_runs_newest_first_with_traceback(self):
        self.add("flaky", runner="test.fail", title="Flaky")
        setSite(self.portal)
        api.run_now("flaky")
        self.tick()
        api.update_job("flaky", runner="test.record")
        api.run_now("flaky")
        self.tick()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=flaky")
        runs = re.findall(r'<tr class="crontab-run crontab-run-(\w+)"', browser.contents)
        self.assertEqual(runs, ["success", "failure"])
        self.assertIn("recorded flaky", browser.contents)
        self.assertIn("RuntimeError: the runner broke on purpose", browser.contents)
        self.assertIn("<summary", browser.contents)
