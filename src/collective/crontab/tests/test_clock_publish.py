"""One tick of the clock through the real Zope publisher, in-process, in a
Plone site: who it runs as, and what it answers when it may not."""

from collective.crontab import clock
from collective.crontab.testing import FUNCTIONAL_TESTING
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.app.testing import TEST_USER_PASSWORD
from ZPublisher.httpexceptions import HTTPExceptionHandler
from ZPublisher.WSGIPublisher import publish_module

import json
import logging
import transaction
import unittest


TICK = "/plone/@@crontab-tick"


class ClockPublishTests(unittest.TestCase):
    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        transaction.commit()

    def clock_thread(self, method=TICK, user=None, password=None):
        config = clock.ClockServer(
            name="test",
            method=method,
            period=1,
            user=user,
            password=password,
            host="nohost",
        )
        return clock.ClockThread(config)

    def publish(self, method=TICK, user=None, password=None):
        environ = self.clock_thread(method, user, password).environ()
        status, body = clock.publish(environ)
        self.layer["app"]._p_jar.sync()
        return status, body, environ

    def test_passwordless_clock_logs_in_a_zope_root_user(self):
        status, body, environ = self.publish(user=SITE_OWNER_NAME)
        self.assertEqual(status, "200 OK")
        self.assertEqual(environ["REMOTE_USER"], SITE_OWNER_NAME)
        self.assertEqual(json.loads(body)["jobs"], 0)

    def test_passwordless_clock_logs_in_a_site_user(self):
        setRoles(self.portal, TEST_USER_ID, ["Site Administrator"])
        transaction.commit()
        status, _, environ = self.publish(user=TEST_USER_NAME)
        self.assertEqual(status, "200 OK")
        self.assertEqual(environ["REMOTE_USER"], TEST_USER_NAME)

    def test_passwordless_clock_reaches_protected_objects_as_its_user(self):
        status, _, environ = self.publish(
            method="/plone/@@overview-controlpanel", user=SITE_OWNER_NAME
        )
        self.assertEqual(status, "200 OK")
        self.assertEqual(environ["REMOTE_USER"], SITE_OWNER_NAME)

    def test_passwordless_clock_user_without_the_permission_is_forbidden(self):
        status, body, _ = self.publish(user=TEST_USER_NAME)
        self.assertEqual(status, "403 Forbidden")
        self.assertIn("error", json.loads(body))

    def test_passwordless_clock_with_unknown_user_is_refused(self):
        status, _, environ = self.publish(user="nobody")
        # Zope's own refusal: Plone's PAS challenges with a login redirect.
        self.assertEqual(status, "302 Found")
        self.assertEqual(environ[clock.REFUSAL_KEY], 'user "nobody" not found')

    def test_basic_auth_clock(self):
        status, _, environ = self.publish(
            user=SITE_OWNER_NAME, password=SITE_OWNER_PASSWORD
        )
        self.assertEqual(status, "200 OK")
        self.assertEqual(environ["REMOTE_USER"], SITE_OWNER_NAME)

    def test_basic_auth_clock_with_wrong_password_is_refused(self):
        status, _, _ = self.publish(
            user=TEST_USER_NAME, password=TEST_USER_PASSWORD + "x"
        )
        self.assertEqual(status, "401 Unauthorized")

    def test_anonymous_tick_is_401_not_a_login_redirect(self):
        status, body, _ = self.publish()
        self.assertEqual(status, "401 Unauthorized")
        self.assertIn("error", json.loads(body))

    def test_the_user_key_alone_authenticates_nobody(self):
        # A request that is not the clock's (as every request from the
        # network) carrying the clock's environ key stays anonymous.
        environ = self.clock_thread(user=SITE_OWNER_NAME).environ()
        statuses = []
        app = HTTPExceptionHandler(publish_module)
        b"".join(
            app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        )
        self.assertEqual(statuses, ["401 Unauthorized"])
        self.assertNotIn("REMOTE_USER", environ)

    def test_refused_tick_is_one_error_line(self):
        with self.assertLogs("collective.crontab.clock", logging.DEBUG) as logs:
            status = self.clock_thread(user="nobody").call_method()
        self.assertEqual(status, "302 Found")
        self.assertEqual(
            logs.output,
            [
                'ERROR:collective.crontab.clock:Clock "/plone/@@crontab-tick" failed: '
                '302 Found (user "nobody" not found)'
            ],
        )

    def test_missing_method_is_one_error_line(self):
        with self.assertLogs("collective.crontab.clock", logging.ERROR) as logs:
            status = self.clock_thread(
                method="/plone/@@no-such-view", user=SITE_OWNER_NAME
            ).call_method()
        self.assertEqual(status, "404 Not Found")
        self.assertEqual(len(logs.output), 1)
        self.assertIn("404 Not Found", logs.output[0])
