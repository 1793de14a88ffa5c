"""@@crontab-tick through the publisher."""

from collective.crontab.tests.base import TickTestCase
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.testing.zope import Browser
from urllib.error import HTTPError

import contextlib
import json
import transaction


class TestTickView(TickTestCase):
    def browser(self, user=None, password=None):
        browser = Browser(self.layer["app"])
        browser.handleErrors = False
        browser.raiseHttpErrors = False
        if user:
            browser.addHeader("Authorization", f"Basic {user}:{password}")
        return browser

    def test_manager_gets_json_summary(self):
        self.add("every-minute")
        browser = self.browser(SITE_OWNER_NAME, SITE_OWNER_PASSWORD)
        browser.open(self.portal.absolute_url() + "/@@crontab-tick")
        self.assertEqual(browser.headers["Content-Type"], "application/json")
        summary = json.loads(browser.contents)
        self.assertEqual(summary["jobs"], 1)
        self.assertEqual(summary["ran"], [])
        transaction.abort()
        self.assertIn("every-minute", self.crontab.handled)

    def test_get_may_write_state(self):
        """plone.protect would abort writes on a GET: the tick opts out."""
        self.add("every-minute")
        self.browser(SITE_OWNER_NAME, SITE_OWNER_PASSWORD).open(
            self.portal.absolute_url() + "/@@crontab-tick"
        )
        transaction.abort()
        self.assertIsNotNone(self.crontab.heartbeat.at)

    def test_anonymous_refused(self):
        self.add("every-minute")
        browser = self.browser()
        browser.handleErrors = True
        with contextlib.suppress(HTTPError):
            browser.open(self.portal.absolute_url() + "/@@crontab-tick")
        # A status cron + curl --fail can detect, not a login form.
        self.assertEqual(browser.headers["status"], "401 Unauthorized")
        self.assertNotIn(b'"ran"', browser.contents)
        transaction.abort()
        self.assertNotIn("every-minute", self.crontab.handled)
        self.assertIsNone(self.crontab.heartbeat.at)
