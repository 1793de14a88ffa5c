"""F2: every run gets a fresh request built like the clock's, and nothing
it does reaches the caller's request or response; a tick inside a run is
refused."""

from collective.crontab import api
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from plone.app.testing import TEST_USER_ID

import json
import transaction


class TestCleanRequest(TickTestCase):
    def setUp(self):
        super().setUp()
        request = self.layer["request"]
        request.form["caller_field"] = "secret"
        request.cookies["__ac"] = "the-callers-cookie"
        request.environ["HTTP_X_CALLER"] = "the-callers-header"
        request._auth = "Basic c2VjcmV0"
        request.environ["HTTP_AUTHORIZATION"] = "Basic c2VjcmV0"
        self.response = request.response
        self.status = self.response.getStatus()

    def assertCallerUntouched(self):
        request = self.layer["request"]
        self.assertEqual(request.form, {"caller_field": "secret"})
        self.assertNotIn("leaked", self.response.cookies)
        self.assertIsNone(self.response.getHeader("X-Leaked"))
        self.assertEqual(self.response.getStatus(), self.status)

    def test_run_now_immediately_runs_in_a_request_of_its_own(self):
        self.add("request", runner="test.request", enabled=False)
        api.run_now("request", immediately=True)
        (run,) = api.history("request")
        self.assertEqual(
            json.loads(run["message"]),
            {
                "form": [],
                "cookies": [],
                "caller_header": None,
                "authorization": None,
                "user": TEST_USER_ID,
            },
        )
        self.assertCallerUntouched()

    def test_call_view_gets_only_the_jobs_query(self):
        self.add(
            "echo",
            runner="collective.crontab.call-view",
            arguments={"path": "@@crontab-test-echo?days=14"},
            enabled=False,
        )
        api.run_now("echo", immediately=True)
        (run,) = api.history("echo")
        self.assertEqual(run["status"], "success", run["message"])
        self.assertEqual(
            json.loads(run["message"]),
            {
                "form": {"days": "14"},
                "cookies": [],
                "caller_header": None,
                "user": TEST_USER_ID,
            },
        )
        self.assertCallerUntouched()

    def test_a_tick_runs_each_job_in_a_request_of_its_own(self):
        self.add("request", runner="test.request")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("request")
        seen = json.loads(run["message"])
        self.assertEqual((seen["form"], seen["cookies"]), ([], []))
        self.assertIsNone(seen["caller_header"])
        self.assertCallerUntouched()


class TestNestedTick(TickTestCase):
    def test_a_tick_inside_a_run_is_refused_and_commits_nothing(self):
        self.add("nested", runner="test.write-then-tick")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        transaction.begin()
        (run,) = api.history("nested")
        self.assertEqual(run["status"], "failure")
        self.assertIn("NestedTick: A cron job may not start a tick", run["message"])
        self.assertEqual(self.ran("nested"), [])  # its write was aborted

    def test_a_call_view_job_calling_the_tick_view_fails(self):
        self.add(
            "recurse",
            runner="collective.crontab.call-view",
            arguments={"path": "@@crontab-tick"},
        )
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("recurse")
        self.assertEqual(run["status"], "failure")
        self.assertIn("may not start a tick", run["message"])
