"""The tick: what runs when, in which transaction, as whom, and the log."""

from collective.crontab import api
from collective.crontab import engine
from collective.crontab.schedule import utcnow
from collective.crontab.state import HEARTBEAT_INTERVAL
from collective.crontab.state import Lease
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import store
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from datetime import timedelta
from plone.app.testing import TEST_USER_ID

import transaction


class TestWhatRuns(TickTestCase):
    def test_new_job_does_not_run_at_once(self):
        self.add("every-minute")
        summary = api.tick(T0)
        self.assertEqual(summary["ran"], [])
        self.assertEqual(self.ran("every-minute"), [])

    def test_new_job_runs_at_first_slot_after_first_tick(self):
        self.add("every-minute")
        api.tick(T0)
        summary = api.tick(T0 + minutes(1))
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["every-minute"])
        self.assertEqual(summary["ran"][0]["slot"], "2026-01-05T12:01:00+00:00")
        self.assertEqual(self.ran("every-minute"), ["ran"])

    def test_slot_runs_once_whatever_the_number_of_ticks(self):
        self.add("every-minute")
        api.tick(T0)
        for seconds in (35, 40, 50, 59):
            api.tick(T0 + timedelta(seconds=seconds))
        self.assertEqual(self.ran("every-minute"), ["ran"])

    def test_retry_landing_in_next_slot_runs_once_for_both_slots(self):
        self.add("every-minute")
        api.tick(T0)
        api.tick(T0 + minutes(2))
        api.tick(T0 + minutes(2))
        slots = [
            (run["status"], run["slot"].minute) for run in api.history("every-minute")
        ]
        self.assertEqual(slots, [("success", 2), ("skipped", 1)])
        self.assertEqual(self.ran("every-minute"), ["ran"])

    def test_disabled_job_does_not_run(self):
        self.add("off", enabled=False)
        api.tick(T0)
        api.tick(T0 + minutes(3))
        self.assertEqual(self.ran("off"), [])

    def test_reenabled_job_waits_for_its_next_slot(self):
        self.add("toggle")
        api.tick(T0)
        api.update_job("toggle", enabled=False)
        transaction.commit()
        api.tick(T0 + minutes(30))
        api.update_job("toggle", enabled=True)
        transaction.commit()
        summary = api.tick(T0 + minutes(60))
        self.assertEqual(summary["ran"], [])
        self.assertEqual(summary["missed"], [])
        api.tick(T0 + minutes(61))
        self.assertEqual(self.ran("toggle"), ["ran"])

    def test_missed_slots_skipped_by_default(self):
        self.add("hourly", schedule="0 * * * *")
        api.tick(T0)
        summary = api.tick(T0 + timedelta(hours=5, minutes=20))
        self.assertEqual(summary["ran"], [])
        self.assertEqual(summary["missed"][0]["slot"], "2026-01-05T13:00:00+00:00")
        self.assertEqual(self.ran("hourly"), [])
        (entry,) = api.history("hourly")
        self.assertEqual(entry["status"], "missed")
        self.assertIn("catch-up policy 'skip'", entry["message"])
        api.tick(T0 + timedelta(hours=6))
        self.assertEqual(self.ran("hourly"), ["ran"])

    def test_missed_slots_run_once_with_catch_up_once(self):
        self.add("hourly", schedule="0 * * * *", catch_up="once")
        api.tick(T0)
        api.tick(T0 + timedelta(hours=5, minutes=20))
        api.tick(T0 + timedelta(hours=5, minutes=21))
        self.assertEqual(self.ran("hourly"), ["ran"])
        statuses = [run["status"] for run in api.history("hourly")]
        self.assertEqual(statuses, ["success", "missed"])

    def test_schedule_change_rearms(self):
        self.add("job", schedule="0 0 1 1 *")
        api.tick(T0)
        api.update_job("job", schedule="* * * * *")
        transaction.commit()
        self.assertEqual(api.tick(T0 + minutes(10))["ran"], [])
        self.assertEqual(len(api.tick(T0 + minutes(11))["ran"]), 1)


class TestRecording(TickTestCase):
    def run_once(self, job_id, **fields):
        self.add(job_id, **fields)
        api.tick(T0)
        return api.tick(T0 + minutes(1))

    def test_success_recorded(self):
        with self.assertNoLogs("collective.crontab", level="ERROR"):
            self.run_once("ok")
        (run,) = api.history("ok")
        self.assertEqual(run["status"], "success")
        self.assertEqual(run["message"], "recorded ok")
        self.assertEqual(run["slot"], T0.replace(minute=1, second=0))
        self.assertEqual(run["client"], engine.CLIENT)
        self.assertGreaterEqual(run["finished"], run["started"])
        self.assertEqual(
            run["duration"], (run["finished"] - run["started"]).total_seconds()
        )
        self.assertEqual(run["traceback"], "")

    def test_warning_result(self):
        self.run_once("warn", runner="test.warn")
        (run,) = api.history("warn")
        self.assertEqual(
            (run["status"], run["message"]), ("warning", "disk almost full")
        )

    def test_failure_recorded_with_traceback(self):
        summary = self.run_once("broken", runner="test.fail")
        (run,) = api.history("broken")
        self.assertEqual(run["status"], "failure")
        self.assertEqual(run["message"], "RuntimeError: the runner broke on purpose")
        self.assertIn("Traceback", run["traceback"])
        self.assertIn("the runner broke on purpose", run["traceback"])
        self.assertEqual(summary["ran"][0]["status"], "failure")

    def test_failed_runner_changes_are_rolled_back(self):
        self.run_once("half", runner="test.write-then-fail")
        self.assertEqual(self.ran("half"), [])
        self.assertEqual(api.history("half")[0]["status"], "failure")

    def test_failure_does_not_stop_other_jobs(self):
        self.add("a-broken", runner="test.fail")
        self.add("b-fine")
        api.tick(T0)
        summary = api.tick(T0 + minutes(1))
        statuses = {entry["job"]: entry["status"] for entry in summary["ran"]}
        self.assertEqual(statuses, {"a-broken": "failure", "b-fine": "success"})
        self.assertEqual(self.ran("b-fine"), ["ran"])

    def test_unknown_runner_recorded_as_failure(self):
        self.add("ghost")
        store("ghost", runner="no.such.runner")
        transaction.commit()
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("ghost")
        self.assertEqual(run["status"], "failure")
        self.assertIn(
            "runner: 'no.such.runner' is not a registered runner", run["message"]
        )

    def test_history_trimmed_to_limit(self):
        self.add("short", history=3)
        api.tick(T0)
        for minute in range(1, 6):
            api.tick(T0 + minutes(minute))
        runs = api.history("short", limit=10)
        self.assertEqual([run["slot"].minute for run in runs], [5, 4, 3])
        self.assertEqual(self.crontab.state("short").count, 3)

    def test_history_newest_first_in_batches(self):
        self.add("many")
        api.tick(T0)
        for minute in range(1, 8):
            api.tick(T0 + minutes(minute))
        page = api.history("many", limit=3, start=2)
        self.assertEqual([run["slot"].minute for run in page], [5, 4, 3])

    def test_recent_summary_for_the_job_list(self):
        self.add("strip")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (entry,) = self.crontab.state("strip").recent
        self.assertEqual(entry[0], "s")
        self.assertEqual(api.get_job("strip")["last_status"], "success")

    def test_long_message_truncated(self):
        from collective.crontab.state import MAX_TEXT
        from collective.crontab.state import truncate

        text = truncate("x" * (MAX_TEXT * 3))
        self.assertLessEqual(len(text), MAX_TEXT)
        self.assertIn(f"[truncated, {MAX_TEXT * 3} characters]", text)

    def test_overlong_run_flagged(self):
        self.assertEqual(engine._span(2 * 3600 + 600), "2h10m")
        self.assertEqual(engine._span(3600), "1h")


class TestOwner(TickTestCase):
    def test_runs_as_owner(self):
        self.add("who", runner="test.whoami")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("who"), [TEST_USER_ID])

    def test_missing_owner_is_a_failure(self):
        self.add("orphan", runner="test.whoami")
        store("orphan", owner="gone")
        transaction.commit()
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("orphan")
        self.assertEqual(run["status"], "failure")
        self.assertIn("owner 'gone' does not exist", run["message"])
        self.assertEqual(self.ran("orphan"), [])


class TestRunNow(TickTestCase):
    def test_run_now_runs_at_next_tick(self):
        self.add("manual", schedule="0 0 1 1 *", enabled=False)
        api.run_now("manual")
        transaction.commit()
        self.assertTrue(api.get_job("manual")["queued"])
        summary = api.tick(T0)
        self.assertEqual(summary["ran"][0]["job"], "manual")
        self.assertEqual(self.ran("manual"), ["ran"])
        self.assertFalse(api.get_job("manual")["queued"])
        api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("manual"), ["ran"])


class TestLeases(TickTestCase):
    def die_while_running(self, job_id, now):
        """What a client killed during a run leaves: a committed lease."""
        state = self.crontab.state(job_id)
        expires = now + timedelta(seconds=api.get_job(job_id)["max_runtime"])
        started = utcnow()
        state.lease = Lease(now, started, "dead:1", expires)
        self.crontab.running[job_id] = expires
        transaction.commit()

    def test_abandoned_after_max_runtime(self):
        self.add("crashy", max_runtime=120)
        api.tick(T0)
        self.die_while_running("crashy", T0)
        summary = api.tick(T0 + minutes(1))
        self.assertEqual(summary["skipped"][0]["job"], "crashy")
        summary = api.tick(T0 + minutes(2))
        self.assertEqual(summary["abandoned"], [{"job": "crashy"}])
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["crashy"])
        # Newest first by start time: the dead run started before the skip.
        statuses = [run["status"] for run in api.history("crashy")]
        self.assertEqual(statuses, ["success", "skipped", "abandoned"])
        abandoned = api.history("crashy")[2]
        self.assertEqual(abandoned["client"], "dead:1")
        self.assertIn(
            "did not finish within its maximum run time", abandoned["message"]
        )

    def test_a_held_lease_shows_as_running(self):
        self.add("crashy", max_runtime=120)
        api.tick(T0)
        self.assertIsNone(api.get_job("crashy")["running"])
        self.die_while_running("crashy", T0)
        running = api.get_job("crashy")["running"]
        self.assertEqual(list(running), ["slot", "started", "client", "expires"])
        self.assertEqual(
            (running["slot"], running["client"], running["expires"]),
            (T0, "dead:1", T0 + minutes(2)),
        )


class TestIdle(TickTestCase):
    def test_idle_tick_writes_nothing(self):
        for index in range(20):
            self.add(f"job-{index}", schedule="0 3 * * *")
        api.tick(T0)  # arms the jobs and beats
        before = self.last_transaction()
        summary = api.tick(T0 + minutes(1))
        self.assertEqual(summary["ran"], [])
        self.assertEqual(self.last_transaction(), before)

    def test_heartbeat_refreshed_only_every_interval(self):
        self.add("daily", schedule="0 3 * * *")
        api.tick(T0)
        self.assertEqual(self.crontab.heartbeat.at, T0)
        api.tick(T0 + HEARTBEAT_INTERVAL - timedelta(seconds=1))
        self.assertEqual(self.crontab.heartbeat.at, T0)
        api.tick(T0 + HEARTBEAT_INTERVAL)
        self.assertEqual(self.crontab.heartbeat.at, T0 + HEARTBEAT_INTERVAL)

    def test_run_leaves_a_fresh_heartbeat_alone_and_last_tick_is_the_tick(self):
        self.add("every-minute")
        api.tick(T0)
        summary = api.tick(T0 + minutes(1))
        self.assertEqual(len(summary["ran"]), 1)
        self.assertEqual(self.crontab.heartbeat.at, T0)
        self.assertEqual(
            engine.last_tick(self.crontab), (T0 + minutes(1), engine.CLIENT)
        )
        self.assertEqual(api.clock_health(now=T0 + minutes(2))["seconds_ago"], 60)
        api.tick(T0 + HEARTBEAT_INTERVAL)
        self.assertEqual(self.crontab.heartbeat.at, T0 + HEARTBEAT_INTERVAL)

    def test_idle_tick_does_not_evaluate_schedules(self):
        for index in range(5):
            self.add(f"job-{index}", schedule="0 3 * * *")
        api.tick(T0)
        calls = []
        original = engine.JobError  # keep a reference: module is untouched

        from collective.crontab import schedule

        next_after = schedule.Schedule.next_after

        def counting(self, after):
            calls.append(after)
            return next_after(self, after)

        schedule.Schedule.next_after = counting
        try:
            api.tick(T0 + minutes(1))
            api.tick(T0 + minutes(2))
        finally:
            schedule.Schedule.next_after = next_after
        self.assertIs(engine.JobError, original)
        self.assertEqual(calls, [])
