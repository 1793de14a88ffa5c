from AccessControl import Unauthorized
from collective.crontab import api
from collective.crontab import notifications
from collective.crontab.exceptions import JobError
from collective.crontab.jobs import Job
from collective.crontab.notifications import PingError
from collective.crontab.schedule import utcnow
from collective.crontab.state import Lease
from collective.crontab.testing import listen_port
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import timedelta
from email import message_from_bytes
from email import policy
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from Products.CMFPlone.tests.utils import MockMailHost
from Products.MailHost.interfaces import IMailHost
from unittest import mock
from zope.component import getSiteManager
from zope.component import getUtility

import queue
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

    def user(self, user_id, email, roles):
        self.portal.acl_users.userFolderAddUser(user_id, "secret-pw-1", roles, [])
        member = self.portal.portal_membership.getMemberById(user_id)
        member.setMemberProperties({"email": email})
        transaction.commit()

    def fail_then(self, runner):
        api.update_job("nightly", runner=runner)
        transaction.commit()


class TestFailureMail(MailTestCase):
    def test_failure_mails_the_notify_list_with_slot_message_and_traceback(self):
        self.user("ops", "OPS@example.org", ["Site Administrator"])
        self.add("nightly", runner="test.fail", notify=["ops@example.org"])
        api.tick(T0)
        api.tick(T0 + minutes(1))
        [mail] = self.mails()
        self.assertEqual(mail["To"], "ops@example.org")
        self.assertEqual(mail["From"], "Example site <site@example.org>")
        self.assertEqual(mail["Subject"], "[Plone site] Cron job nightly failed")
        body = mail.get_content()
        self.assertIn("status failure for the slot 2026-01-05T12:01:00+00:00", body)
        self.assertIn("RuntimeError: the runner broke on purpose", body)
        self.assertIn("Traceback (most recent call last)", body)

    def test_tracebacks_only_to_users_who_manage_cron_jobs(self):
        self.user("ops", "ops@example.org", ["Site Administrator"])
        self.user("editor", "editor@example.org", ["Editor"])
        notify = ["editor@example.org", "ops@example.org", "someone@example.org"]
        self.add("nightly", runner="test.fail", notify=notify)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        managers, others = self.mails()
        self.assertEqual(managers["To"], "ops@example.org")
        self.assertIn("Traceback (most recent call last)", managers.get_content())
        self.assertEqual(others["To"], "editor@example.org, someone@example.org")
        body = others.get_content()
        self.assertIn("RuntimeError: the runner broke on purpose", body)
        self.assertNotIn("Traceback", body)
        self.assertNotIn("runners.py", body)

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
        state.lease = Lease(T0, utcnow(), "dead:1", expires)
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

    def test_ping_url_other_schemes_and_bad_urls_are_rejected(self):
        for url in (
            "file:///etc/passwd",
            "javascript:alert(1)",
            "gopher://x/",
            "http://example.org:99999/",
            "http://[::1/",
        ):
            with self.subTest(url=url), self.assertRaises(JobError) as caught:
                self.add("nightly", ping_url=url)
            self.assertIn("must be an http:// or https:// URL", str(caught.exception))

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
DRIP_PORT = listen_port(503)


class PingServer(ThreadingHTTPServer):
    """Records the paths it is asked for; with ``delay`` it answers late."""

    daemon_threads = False  # server_close() waits for late answers

    def __init__(self, port, delay=0, handler=None):
        self.paths = []
        self.delay = delay
        super().__init__(("127.0.0.1", port), handler or PingHandler)
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
            if self.path.startswith("/moved"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{PING_PORT}/elsewhere")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
        except BrokenPipeError:
            pass  # the client gave up waiting

    def log_message(self, *args):
        pass


class DripHandler(PingHandler):
    """Answers one byte every 0.1 s: each read is quick, the answer is not."""

    def do_GET(self):
        self.server.paths.append(self.path)
        try:
            for byte in b"HTTP/1.1 200 OK, but very slowly indeed\r\n":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass


class PingTestCase(TickTestCase):
    def setUp(self):
        super().setUp()
        getUtility(IRegistry)[notifications.ALLOW_PRIVATE] = True
        transaction.commit()
        self.server = self.serve(PING_PORT)
        self.url = f"http://127.0.0.1:{PING_PORT}/ping/abc"

    def serve(self, port, **options):
        server = PingServer(port, **options)
        self.addCleanup(server.stop)
        self.addCleanup(notifications.drain, 30)  # before the server stops
        return server

    def pinged(self, server=None):
        self.assertTrue(notifications.drain(15))
        return (server or self.server).paths


class TestPings(PingTestCase):
    def test_success_pings_start_then_the_url(self):
        self.add("nightly", ping_url=self.url)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.pinged(), ["/ping/abc/start", "/ping/abc"])

    def test_failure_pings_start_then_fail(self):
        self.add("nightly", runner="test.fail", ping_url=self.url + "/")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.pinged(), ["/ping/abc/start", "/ping/abc/fail"])

    def test_run_now_pings_too(self):
        self.add("nightly", runner="test.warn", ping_url=self.url)
        api.run_now("nightly", immediately=True)
        self.assertEqual(self.pinged(), ["/ping/abc/start", "/ping/abc"])

    def test_unreachable_ping_url_is_logged_and_the_run_succeeds(self):
        self.add("nightly", ping_url=f"http://127.0.0.1:{HANGING_PORT}/gone")
        api.tick(T0)
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            api.tick(T0 + minutes(1))
            self.pinged()
        self.assertIn(
            f"ping http://127.0.0.1:{HANGING_PORT}/gone/start failed", logs.output[0]
        )
        self.assertEqual(api.history("nightly")[0]["status"], "success")
        self.assertEqual(self.ran("nightly"), ["ran"])

    def test_a_run_and_its_tick_do_not_wait_for_pings(self):
        hanging = self.serve(HANGING_PORT, delay=1)
        self.add("nightly", ping_url=f"http://127.0.0.1:{HANGING_PORT}/slow")
        api.tick(T0)
        started = time.monotonic()
        api.tick(T0 + minutes(1))
        self.assertLess(time.monotonic() - started, 0.5)
        self.assertEqual(api.history("nightly")[0]["status"], "success")
        self.assertEqual(self.pinged(hanging), ["/slow/start", "/slow"])

    def test_the_end_ping_is_sent_once_the_run_is_recorded(self):
        self.add("nightly", ping_url=self.url)
        state = self.crontab.state("nightly")
        run = {"slot": T0, "started": T0, "finished": T0, "duration": 0.0}
        state.append(10, status="failure", message="", traceback="", client="t", **run)
        notifications.run_recorded("nightly", state)
        self.assertEqual(self.pinged(), [])
        transaction.abort()  # the record is lost: no ping
        self.assertEqual(self.pinged(), [])
        state = self.crontab.state("nightly")
        state.append(10, status="success", message="", traceback="", client="t", **run)
        notifications.run_recorded("nightly", state)
        transaction.commit()
        self.assertEqual(self.pinged(), ["/ping/abc"])

    def test_an_abandoned_run_pings_fail(self):
        self.add("crashy", ping_url=self.url, max_runtime=60)
        api.tick(T0)
        expires = T0 + timedelta(seconds=60)
        lease = Lease(T0, T0, "dead:1", expires)
        self.crontab.state("crashy").lease = lease
        self.crontab.running["crashy"] = expires
        transaction.commit()
        api.tick(T0 + minutes(2))
        self.assertEqual(self.pinged()[0], "/ping/abc/fail")

    def test_redirects_are_not_followed(self):
        self.add("nightly", ping_url=f"http://127.0.0.1:{PING_PORT}/moved")
        api.tick(T0)
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            api.tick(T0 + minutes(1))
            self.pinged()
        self.assertEqual(self.server.paths, ["/moved/start", "/moved"])
        self.assertIn("answered 302: redirects are not followed", logs.output[0])

    def test_a_slow_drip_answer_is_cut_at_the_deadline(self):
        drip = self.serve(DRIP_PORT, handler=DripHandler)
        started = time.monotonic()
        with self.assertRaisesRegex(PingError, "no answer within the deadline"):
            notifications.send(
                f"http://127.0.0.1:{DRIP_PORT}/drip", allow_private=True, deadline=0.5
            )
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(drip.paths, ["/drip"])

    def test_a_slow_drip_answer_holds_the_worker_at_most_the_deadline(self):
        drip = self.serve(DRIP_PORT, handler=DripHandler)
        self.addCleanup(
            setattr, notifications, "PING_DEADLINE", notifications.PING_DEADLINE
        )
        notifications.PING_DEADLINE = 0.5
        self.add("nightly", ping_url=f"http://127.0.0.1:{DRIP_PORT}/drip")
        api.tick(T0)
        started = time.monotonic()
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            api.tick(T0 + minutes(1))
            self.assertEqual(self.pinged(drip), ["/drip/start", "/drip"])
        self.assertLess(time.monotonic() - started, 1.8)
        self.assertIn("no answer within the deadline", logs.output[0])

    def test_a_full_queue_drops_pings_and_says_so(self):
        job = Job(id="nightly", ping_url=self.url)
        with mock.patch.object(notifications, "_pings", queue.Queue(2)) as pings:
            with self.assertLogs("collective.crontab", "WARNING") as logs:
                for _ in range(3):
                    notifications.ping(job, "start")
            self.assertEqual(pings.qsize(), 2)
        self.assertIn(f"ping {self.url}/start dropped", logs.output[0])


class TestPingTargets(PingTestCase):
    def setUp(self):
        super().setUp()
        getUtility(IRegistry)[notifications.ALLOW_PRIVATE] = False
        transaction.commit()

    def test_private_addresses_are_refused_in_every_spelling(self):
        for url in (
            f"http://127.0.0.1:{PING_PORT}/",
            f"http://0x7f000001:{PING_PORT}/",
            f"http://2130706433:{PING_PORT}/",
            f"http://[::1]:{PING_PORT}/",
            f"http://[::ffff:127.0.0.1]:{PING_PORT}/",
            f"http://localhost:{PING_PORT}/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://240.0.0.1/",
        ):
            with (
                self.subTest(url=url),
                self.assertRaisesRegex(PingError, "not a public address"),
            ):
                notifications.send(url)
        self.assertEqual(self.server.paths, [])

    def test_a_job_pinging_a_private_address_is_refused_and_runs(self):
        self.add("nightly", ping_url=self.url)
        api.tick(T0)
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            api.tick(T0 + minutes(1))
            self.pinged()
        self.assertEqual(self.server.paths, [])
        self.assertIn(
            "refused: 127.0.0.1 is 127.0.0.1, not a public address (a Manager may "
            "allow it with the registry setting "
            "collective.crontab.allow_private_ping_targets)",
            logs.output[0],
        )
        self.assertEqual(api.history("nightly")[0]["status"], "success")

    def test_only_a_manager_may_allow_private_addresses(self):
        registry = getUtility(IRegistry)
        setRoles(self.portal, TEST_USER_ID, ["Site Administrator"])
        with self.assertRaises(Unauthorized):
            registry[notifications.ALLOW_PRIVATE] = True
        transaction.abort()
        self.assertFalse(registry[notifications.ALLOW_PRIVATE])
        registry[notifications.ALLOW_PRIVATE] = False  # switching off is fine
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        registry[notifications.ALLOW_PRIVATE] = True
        self.assertTrue(registry[notifications.ALLOW_PRIVATE])


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
