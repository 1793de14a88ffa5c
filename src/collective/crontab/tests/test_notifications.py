from collective.crontab import api
from collective.crontab import notifications
from collective.crontab.exceptions import JobError
from collective.crontab.schedule import utcnow
from collective.crontab.testing import listen_port
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import timedelta
from email import message_from_bytes
from email import policy
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from plone.registry.interfaces import IRegistry
from Products.CMFPlone.tests.utils import MockMailHost
from Products.MailHost.interfaces import IMailHost
from zope.component import getSiteManager
from zope.component import getUtility

import threading
import time
import transaction


class MailTestCase(TickTestCase):
    def setUp(self):
        super().setUp()
        self.mailhost = MockMailHost("MailHost")
        self.portal._original_MailHost = self.portal.MailHost
        self.portal.MailHost = self.mailhost
        getSiteManager(self.portal).registerUtility(self.mailhost, provided=IMailHost)
        registry = getUtility(IRegistry)
        registry["plone.email_from_address"] = "site@example.org"
        registry["plone.email_from_name"] = "Example site"
        transaction.commit()

    def mails(self):
        return [
            message_from_bytes(raw, policy=policy.default)
            for raw in self.mailhost.messages
        ]

    def fail_then(self, runner):
        api.update_job("nightly", runner=runner)
        transaction.commit()


class TestFailureMail(MailTestCase):
    def test_failure_mails_the_notify_list_with_slot_message_and_traceback(self):
        self.add(
            "nightly", runner="test.fail", notify=["ops@example.org", "me@example.org"]
        )
        api.tick(T0)
        api.tick(T0 + minutes(1))
        [mail] = self.mails()
        self.assertEqual(mail["To"], "ops@example.org, me@example.org")
        self.assertEqual(mail["From"], "Example site <site@example.org>")
        self.assertEqual(mail["Subject"], "[Plone site] Cron job nightly failed")
        body = mail.get_content()
        self.assertIn("status failure for the slot 2026-01-05T12:01:00+00:00", body)
        self.assertIn("RuntimeError: the runner broke on purpose", body)
        self.assertIn("Traceback (most recent call last)", body)

    def test_one_mail_per_failure_streak(self):
        self.add("nightly", runner="test.fail", notify=["ops@example.org"])
        for minute in range(5):
            api.tick(T0 + minutes(minute))
        self.assertEqual(len(self.mails()), 1)
        self.assertTrue(self.crontab.state("nightly").failing)

    def test_a_new_streak_after_a_success_mails_again(self):
        self.add("nightly", runner="test.fail", notify=["ops@example.org"])
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.fail_then("test.record")
        api.tick(T0 + minutes(2))
        self.fail_then("test.fail")
        api.tick(T0 + minutes(3))
        subjects = [mail["Subject"] for mail in self.mails()]
        self.assertEqual(subjects, ["[Plone site] Cron job nightly failed"] * 2)

    def test_recovery_mail_only_when_asked(self):
        self.add(
            "nightly",
            runner="test.fail",
            notify=["ops@example.org"],
            notify_recovery=True,
        )
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.fail_then("test.record")
        api.tick(T0 + minutes(2))
        api.tick(T0 + minutes(3))
        subjects = [mail["Subject"] for mail in self.mails()]
        self.assertEqual(
            subjects,
            [
                "[Plone site] Cron job nightly failed",
                "[Plone site] Cron job nightly recovered",
            ],
        )
        self.assertFalse(self.crontab.state("nightly").failing)

    def test_successful_runs_send_nothing(self):
        self.add("nightly", notify=["ops@example.org"], notify_recovery=True)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.mails(), [])

    def test_no_notify_list_no_mail_but_the_streak_is_tracked(self):
        self.add("nightly", runner="test.fail")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.mails(), [])
        self.assertTrue(self.crontab.state("nightly").failing)

    def test_abandoned_run_is_mailed(self):
        self.add("crashy", notify=["ops@example.org"], max_runtime=60)
        api.tick(T0)
        state = self.crontab.state("crashy")
        expires = T0 + timedelta(seconds=60)
        state.lease = {
            "slot": T0,
            "started": utcnow(),
            "client": "dead:1",
            "expires": expires,
        }
        self.crontab.running["crashy"] = expires
        transaction.commit()
        api.tick(T0 + minutes(2))
        [mail] = self.mails()
        self.assertEqual(mail["Subject"], "[Plone site] Cron job crashy failed")
        self.assertIn("status abandoned", mail.get_content())
        self.assertIn("its process probably died", mail.get_content())

    def test_without_sender_address_nothing_is_sent_and_the_run_is_recorded(self):
        getUtility(IRegistry)["plone.email_from_address"] = ""
        self.add("nightly", runner="test.fail", notify=["ops@example.org"])
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.mails(), [])
        self.assertEqual(api.history("nightly")[0]["status"], "failure")


class TestNotificationFields(TickTestCase):
    def test_bad_address_names_job_and_field(self):
        with self.assertRaises(JobError) as caught:
            self.add("nightly", notify=["ops@example.org", "not an address"])
        self.assertEqual(
            str(caught.exception),
            "Cron job 'nightly': notify: 'not an address' is not an e-mail address",
        )

    def test_notify_must_be_a_list(self):
        with self.assertRaises(JobError) as caught:
            self.add("nightly", notify="ops@example.org")
        self.assertEqual(
            caught.exception.errors,
            {"notify": "must be a list of e-mail addresses, not str"},
        )

    def test_ping_url_must_be_http(self):
        with self.assertRaises(JobError) as caught:
            self.add("nightly", ping_url="ftp://example.org/ping")
        self.assertEqual(
            str(caught.exception),
            "Cron job 'nightly': ping_url: 'ftp://example.org/ping' must be an "
            "http:// or https:// URL",
        )

    def test_fields_are_stored_cleaned(self):
        job = self.add(
            "nightly",
            notify=[" ops@example.org "],
            notify_recovery=True,
            ping_url=" https://hc-ping.com/abc ",
        )
        self.assertEqual(job["notify"], ["ops@example.org"])
        self.assertTrue(job["notify_recovery"])
        self.assertEqual(job["ping_url"], "https://hc-ping.com/abc")


PING_PORT = listen_port(501)
HANGING_PORT = listen_port(502)


class PingServer(ThreadingHTTPServer):
    """Records the paths it is asked for; with ``delay`` it answers late."""

    daemon_threads = False  # server_close() waits for late answers

    def __init__(self, port, delay=0):
        self.paths = []
        self.delay = delay
        super().__init__(("127.0.0.1", port), PingHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class PingHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        time.sleep(self.server.delay)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
        except BrokenPipeError:
            pass  # the client gave up waiting

    def log_message(self, *args):
        pass


class TestPings(TickTestCase):
    def setUp(self):
        super().setUp()
        self.server = PingServer(PING_PORT)
        self.addCleanup(self.server.stop)
        self.url = f"http://127.0.0.1:{PING_PORT}/ping/abc"

    def test_success_pings_start_then_the_url(self):
        self.add("nightly", ping_url=self.url)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.server.paths, ["/ping/abc/start", "/ping/abc"])

    def test_failure_pings_start_then_fail(self):
        self.add("nightly", runner="test.fail", ping_url=self.url + "/")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.server.paths, ["/ping/abc/start", "/ping/abc/fail"])

    def test_run_now_pings_too(self):
        self.add("nightly", runner="test.warn", ping_url=self.url)
        api.run_now("nightly", immediately=True)
        self.assertEqual(self.server.paths, ["/ping/abc/start", "/ping/abc"])

    def test_unreachable_ping_url_is_logged_and_the_run_succeeds(self):
        self.add("nightly", ping_url=f"http://127.0.0.1:{HANGING_PORT}/gone")
        api.tick(T0)
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            api.tick(T0 + minutes(1))
        self.assertIn(
            f"ping http://127.0.0.1:{HANGING_PORT}/gone/start failed", logs.output[0]
        )
        self.assertEqual(api.history("nightly")[0]["status"], "success")
        self.assertEqual(self.ran("nightly"), ["ran"])

    def test_a_hanging_ping_server_delays_the_run_only_by_the_timeout(self):
        hanging = PingServer(HANGING_PORT, delay=2)
        self.addCleanup(hanging.stop)
        self.addCleanup(
            setattr, notifications, "PING_TIMEOUT", notifications.PING_TIMEOUT
        )
        notifications.PING_TIMEOUT = 0.3
        self.add("nightly", ping_url=f"http://127.0.0.1:{HANGING_PORT}/slow")
        api.tick(T0)
        started = time.monotonic()
        with self.assertLogs("collective.crontab", "WARNING"):
            api.tick(T0 + minutes(1))
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertEqual(api.history("nightly")[0]["status"], "success")


class TestGermanMail(MailTestCase):
    def test_the_mail_is_in_the_site_language(self):
        getUtility(IRegistry)["plone.default_language"] = "de"
        self.add("nightly", runner="test.fail", notify=["ops@example.org"])
        api.tick(T0)
        api.tick(T0 + minutes(1))
        [mail] = self.mails()
        self.assertEqual(
            mail["Subject"], "[Plone site] Cron-Job nightly fehlgeschlagen"
        )
        body = mail.get_content()
        self.assertIn(
            "Der Cron-Job nightly (Nightly) wurde nicht abgeschlossen: Status failure "
            "für den Termin 2026-01-05T12:01:00+00:00",
            body,
        )
        self.assertIn("Meldung:\nRuntimeError: the runner broke on purpose", body)
