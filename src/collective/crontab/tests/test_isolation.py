"""One bad job never stops the others, the tick, health or the panel.

A schedule that cannot be computed is simulated by making
``Schedule.next_after`` raise for one job's expression (or zone)."""

from collective.crontab import api
from collective.crontab import engine
from collective.crontab import health
from collective.crontab.exceptions import ScheduleError
from collective.crontab.health import check
from collective.crontab.schedule import normalize
from collective.crontab.schedule import Schedule
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.registry.interfaces import IRegistry
from plone.testing.zope import Browser
from unittest import mock
from ZODB.POSException import ConflictError
from zope.component import getUtility

import json
import transaction


BAD = "0-59 * * * *"  # every minute, as the good job, but spelt apart


class IsolationTestCase(TickTestCase):
    def setUp(self):
        super().setUp()
        self.add("bad", schedule=BAD)
        self.add("good")
        self.calls = []

    def breaking(self, error, zone=None, times=None):
        """Make next_after raise ``error`` for BAD (in ``zone``, if given),
        ``times`` times (default: always)."""
        real = Schedule.next_after
        expression = normalize(BAD)

        def next_after(schedule, after):
            broken = schedule.expression == expression and (
                zone is None or str(schedule.tz) == zone
            )
            if broken and (times is None or len(self.calls) < times):
                self.calls.append(after)
                raise error
            return real(schedule, after)

        patcher = mock.patch.object(Schedule, "next_after", next_after)
        patcher.start()
        self.addCleanup(patcher.stop)

    def open(self, path, anonymous=False, **headers):
        browser = Browser(self.layer["app"])
        browser.handleErrors = False
        browser.raiseHttpErrors = False
        if not anonymous:
            auth = f"Basic {SITE_OWNER_NAME}:{SITE_OWNER_PASSWORD}"
            browser.addHeader("Authorization", auth)
        for name, value in headers.items():
            browser.addHeader(name, value)
        browser.open(f"{self.portal.absolute_url()}/{path}")
        return browser


class TestOneBadJob(IsolationTestCase):
    def test_uncomputable_schedule_is_set_aside_and_the_others_run(self):
        self.breaking(ScheduleError("no slot in the next 10 years"))
        with self.assertLogs("collective.crontab", "ERROR") as logs:
            summary = api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("good"), ["ran"])
        self.assertEqual(self.ran("bad"), [])
        message = "Cron job 'bad': schedule: no slot in the next 10 years"
        self.assertEqual(summary["invalid"], {"bad": message})
        self.assertIn(f"{message}; it will not run until it is fixed", logs.output[0])

    def test_any_error_is_isolated(self):
        for error in (ValueError("year 10000 is out of range"), OverflowError("big")):
            with self.subTest(error=error):
                self.calls.clear()
                self.breaking(error)
                api.update_job("bad", title=f"Bad {error}")  # a new cache
                transaction.commit()
                with self.assertLogs("collective.crontab", "ERROR"):
                    summary = api.tick(T0)
                self.assertEqual(
                    summary["invalid"]["bad"],
                    f"Cron job 'bad': {type(error).__name__}: {error}",
                )

    def test_a_set_aside_job_costs_no_more_computing(self):
        self.breaking(ScheduleError("no slot"))
        with self.assertLogs("collective.crontab", "ERROR"):
            api.tick(T0)
        for minute in range(1, 4):
            api.tick(T0 + minutes(minute))
        self.assertEqual(len(self.calls), 1)
        self.assertEqual(self.ran("good"), ["ran"] * 3)
        check(self.portal, T0 + minutes(4))
        self.assertEqual(len(self.calls), 1)

    def test_an_error_after_a_run_is_isolated(self):
        api.tick(T0)
        real = engine._record

        def record(crontab, job, *args, **kwargs):
            real(crontab, job, *args, **kwargs)
            if job.id == "bad":
                raise ValueError("after the run")

        with (
            mock.patch.object(engine, "_record", record),
            self.assertLogs("collective.crontab", "ERROR"),
        ):
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("bad") + self.ran("good"), ["ran", "ran"])
        self.assertEqual(
            summary["invalid"], {"bad": "Cron job 'bad': ValueError: after the run"}
        )
        self.assertEqual(api.history("bad")[0]["status"], "success")

    def test_a_conflict_is_tried_again_at_the_next_tick(self):
        api.tick(T0)
        self.breaking(ConflictError(), times=1)
        with self.assertLogs("collective.crontab", "WARNING") as logs:
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(summary["invalid"], {})
        self.assertIn("it is tried again at the next tick", logs.output[0])
        summary = api.tick(T0 + minutes(2))
        self.assertIn("bad", [entry["job"] for entry in summary["ran"]])

    def test_the_tick_view_answers_200(self):
        self.breaking(ScheduleError("no slot"))
        with self.assertLogs("collective.crontab", "ERROR"):
            browser = self.open("@@crontab-tick")
        self.assertEqual(browser.headers["status"], "200 OK")
        self.assertIn("bad", json.loads(browser.contents)["invalid"])

    def test_health_panel_and_rest_list_the_bad_job(self):
        api.tick(T0)  # both armed
        self.breaking(ScheduleError("no slot"))
        message = "Cron job 'bad': schedule: no slot"
        result = check(self.portal, T0 + minutes(1))
        self.assertEqual(result["invalid"], {"bad": message})
        self.assertIn(message, result["problems"])
        self.assertEqual(api.get_job("bad")["error"], message)
        self.assertNotIn("error", api.get_job("good"))
        browser = self.open("@@crontab-health")
        self.assertEqual(browser.headers["status"], "503 Service Unavailable")
        self.assertEqual(json.loads(browser.contents)["invalid"], {"bad": message})
        browser = self.open("@crontab-health", Accept="application/json")
        self.assertEqual(json.loads(browser.contents)["invalid"], {"bad": message})
        browser = self.open("@crontab", Accept="application/json")
        self.assertEqual(browser.headers["status"], "200 OK")
        items = json.loads(browser.contents)["items"]
        errors = {job["id"]: job.get("error") for job in items}
        self.assertEqual(errors, {"bad": message, "good": None})
        browser = self.open("@@crontab-controlpanel")
        self.assertEqual(browser.headers["status"], "200 OK")
        row = browser.contents.split('id="job-bad"')[1].split('id="job-good"')[0]
        self.assertIn("schedule: no slot</div>", row)


class TestSiteZoneChange(IsolationTestCase):
    def test_jobs_uncomputable_in_the_new_zone_are_invalid_until_it_changes_back(
        self,
    ):
        api.tick(T0)
        self.breaking(ScheduleError("no slot in this zone"), zone="America/New_York")
        registry = getUtility(IRegistry)
        registry["plone.portal_timezone"] = "America/New_York"
        transaction.commit()
        with self.assertLogs("collective.crontab", "ERROR"):
            summary = api.tick(T0 + minutes(1))
        message = "Cron job 'bad': schedule: no slot in this zone"
        self.assertEqual(summary["invalid"], {"bad": message})
        self.assertEqual(api.get_job("bad")["error"], message)
        self.assertEqual(
            check(self.portal, T0 + minutes(1))["invalid"], {"bad": message}
        )
        registry["plone.portal_timezone"] = "UTC"
        transaction.commit()
        summary = api.tick(T0 + minutes(2))
        self.assertEqual(summary["invalid"], {})
        self.assertNotIn("error", api.get_job("bad"))


class TestReviewReproduction(TickTestCase):
    """F4 as the review found it: ``* 2 * 3 0#2`` saved in a UTC site, whose
    zone then becomes America/New_York (every match in a DST gap)."""

    def test_the_gap_schedule_is_invalid_and_nothing_else_stops(self):
        self.add("gap", schedule="* 2 * 3 0#2")
        self.add("good")
        api.tick(T0)
        getUtility(IRegistry)["plone.portal_timezone"] = "America/New_York"
        transaction.commit()
        with self.assertLogs("collective.crontab", "ERROR"):
            summary = api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("good"), ["ran"])
        self.assertIn("has no run time in America/New_York", summary["invalid"]["gap"])
        self.assertIn("gap", check(self.portal, T0 + minutes(1))["invalid"])
        self.assertIn("has no run time", api.get_job("gap")["error"])
        self.assertNotIn("error", api.get_job("good"))


class TestCachedHealth(IsolationTestCase):
    def test_anonymous_answers_are_reused_for_a_few_seconds(self):
        clock = mock.Mock(return_value=1000.0)
        with (
            mock.patch.object(health, "monotonic", clock),
            mock.patch.object(health, "read_jobs", wraps=health.read_jobs) as checks,
        ):
            for path in ("@@crontab-health", "@crontab-health") * 3:
                browser = self.open(path, anonymous=True, Accept="application/json")
                self.assertEqual(browser.headers["status"], "503 Service Unavailable")
            self.assertEqual(checks.call_count, 1)
            clock.return_value += health.CACHE_SECONDS
            self.open("@@crontab-health", anonymous=True)
            self.assertEqual(checks.call_count, 2)

    def test_managers_always_get_a_fresh_check(self):
        with mock.patch.object(health, "read_jobs", wraps=health.read_jobs) as checks:
            for _ in range(3):
                self.open("@@crontab-health")
        self.assertEqual(checks.call_count, 3)
