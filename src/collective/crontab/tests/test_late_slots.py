"""A late tick runs a job once, for its latest on-time slot; the earlier
slots are one ledger entry per range; never a burst of runs."""

from collective.crontab import api
from collective.crontab.state import Lease
from collective.crontab.tests.base import TickTestCase
from datetime import datetime
from datetime import UTC

import transaction


def at(hour, minute, second=0):
    return datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)


class TestLateSlots(TickTestCase):
    def add_armed(self, job_id, armed, **fields):
        self.add(job_id, **fields)
        api.tick(armed)

    def ledger(self, job_id):
        return [
            (run["status"], run["slot"], run["message"])
            for run in reversed(api.history(job_id))
        ]

    def test_late_tick_runs_once_for_the_latest_slot(self):
        # Armed at 09:59:30, the clock held until 10:04:10: one run for 10:04.
        self.add_armed("minutely", at(9, 59, 30), runner="test.slots")
        summary = api.tick(at(10, 4, 10))
        self.assertEqual(
            [(entry["job"], entry["slot"]) for entry in summary["ran"]],
            [("minutely", "2026-01-05T10:04:00+00:00")],
        )
        self.assertEqual(self.ran("minutely"), [(at(10, 0), at(10, 4), 5, at(10, 4))])
        self.assertEqual(
            summary["skipped"],
            [
                {
                    "job": "minutely",
                    "slot": "2026-01-05T10:00:00+00:00",
                    "last": "2026-01-05T10:03:00+00:00",
                    "count": 4,
                }
            ],
        )

    def test_coalesced_slots_are_one_ledger_entry(self):
        self.add_armed("minutely", at(9, 59, 30))
        api.tick(at(10, 4, 10))
        self.assertEqual(
            self.ledger("minutely"),
            [
                (
                    "skipped",
                    at(10, 0),
                    "Skipped 4 slots from 2026-01-05T10:00:00+00:00 to "
                    "2026-01-05T10:03:00+00:00: coalesced into the run for "
                    "2026-01-05T10:04:00+00:00",
                ),
                ("success", at(10, 4), "recorded minutely"),
            ],
        )

    def test_next_late_tick_coalesces_again(self):
        # 10:14:10, last run 10:04: 10:05-10:09 are beyond the grace.
        self.add_armed("minutely", at(9, 59, 30))
        api.tick(at(10, 4, 10))
        api.tick(at(10, 14, 10))
        self.assertEqual(len(self.ran("minutely")), 2)
        self.assertEqual(
            [(status, slot) for status, slot, _message in self.ledger("minutely")],
            [
                ("skipped", at(10, 0)),
                ("success", at(10, 4)),
                ("missed", at(10, 5)),
                ("skipped", at(10, 10)),
                ("success", at(10, 14)),
            ],
        )
        self.assertIn(
            "5 slots from 2026-01-05T10:05:00+00:00 to 2026-01-05T10:09:00",
            self.ledger("minutely")[2][2],
        )

    def test_missed_range_ends_at_the_last_missed_slot(self):
        # A3: a daily job found 6 hours late missed 03:00, nothing "to 08:55".
        self.add_armed("daily", at(0, 0), schedule="0 3 * * *")
        api.tick(at(9, 0))
        self.assertEqual(
            self.ledger("daily"),
            [
                (
                    "missed",
                    at(3, 0),
                    "Missed the slot 2026-01-05T03:00:00+00:00: more than 5 "
                    "minutes late; catch-up policy 'skip'",
                )
            ],
        )
        self.assertEqual(self.ran("daily"), [])

    def test_catch_up_once_runs_the_latest_missed_slot_only(self):
        # A2: the run is for 05:00; 01:00-04:00 are missed, 05:00 is not.
        self.add_armed(
            "hourly",
            at(0, 0),
            schedule="0 * * * *",
            catch_up="once",
            runner="test.slots",
        )
        summary = api.tick(at(5, 30))
        self.assertEqual(
            [entry["slot"] for entry in summary["ran"]], ["2026-01-05T05:00:00+00:00"]
        )
        self.assertEqual(self.ran("hourly"), [(at(1, 0), at(5, 0), 5, at(5, 0))])
        self.assertEqual(
            self.ledger("hourly"),
            [
                (
                    "missed",
                    at(1, 0),
                    "Missed 4 slots from 2026-01-05T01:00:00+00:00 to "
                    "2026-01-05T04:00:00+00:00: more than 5 minutes late; "
                    "catch-up policy 'once', the run for "
                    "2026-01-05T05:00:00+00:00 stands for them",
                ),
                ("success", at(5, 0), ""),
            ],
        )

    def test_missed_and_on_time_slots_in_one_tick(self):
        self.add_armed("tens", at(0, 0), schedule="*/10 * * * *")
        summary = api.tick(at(1, 0, 30))
        self.assertEqual(
            [entry["slot"] for entry in summary["ran"]], ["2026-01-05T01:00:00+00:00"]
        )
        self.assertEqual(
            summary["missed"],
            [
                {
                    "job": "tens",
                    "slot": "2026-01-05T00:10:00+00:00",
                    "last": "2026-01-05T00:50:00+00:00",
                    "count": 5,
                }
            ],
        )

    def test_slots_still_running_are_one_skipped_entry(self):
        self.add_armed("minutely", at(9, 59, 30))
        state = self.crontab.state("minutely")
        state.lease = Lease(at(9, 58), at(9, 58), "other", at(11, 0))
        transaction.commit()
        api.tick(at(10, 2, 10))
        self.assertEqual(self.ran("minutely"), [])
        self.assertEqual(
            self.ledger("minutely"),
            [
                (
                    "skipped",
                    at(10, 0),
                    "Skipped 3 slots from 2026-01-05T10:00:00+00:00 to "
                    "2026-01-05T10:02:00+00:00: the run of "
                    "2026-01-05T09:58:00+00:00 on other is still going",
                )
            ],
        )
