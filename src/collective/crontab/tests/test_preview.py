"""The schedule preview of the add/edit forms: next runs, DST warnings."""

from collective.crontab.controlpanel.preview import dst_warnings
from collective.crontab.controlpanel.preview import next_runs
from collective.crontab.controlpanel.preview import transitions
from collective.crontab.schedule import Schedule
from collective.crontab.schedule import UTC
from datetime import datetime
from zoneinfo import ZoneInfo

import unittest


NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class TestPreview(unittest.TestCase):
    def test_next_runs_are_the_next_five_slots(self):
        runs = next_runs(Schedule("0 3 * * *", "Europe/Berlin"), NOW)
        self.assertEqual(
            runs, [datetime(2026, 1, day, 2, 0, tzinfo=UTC) for day in range(6, 11)]
        )

    def test_transitions_of_berlin_in_the_next_year(self):
        found = transitions(ZoneInfo("Europe/Berlin"), NOW)
        self.assertEqual(
            [(t.at, t.start, t.end, t.gap) for t in found],
            [
                (
                    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                    datetime(2026, 3, 29, 2, 0),
                    datetime(2026, 3, 29, 3, 0),
                    True,
                ),
                (
                    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
                    datetime(2026, 10, 25, 2, 0),
                    datetime(2026, 10, 25, 3, 0),
                    False,
                ),
            ],
        )

    def test_a_zone_without_dst_has_no_transitions(self):
        self.assertEqual(transitions(ZoneInfo("Asia/Tokyo"), NOW), [])

    def test_run_in_gap_and_repeated_hour_is_warned(self):
        warnings = dst_warnings(Schedule("30 2 * * *", "Europe/Berlin"), NOW)
        self.assertEqual(
            [(w.transition.gap, w.wall_time, w.fixed_time) for w in warnings],
            [
                (True, datetime(2026, 3, 29, 2, 30), True),
                (False, datetime(2026, 10, 25, 2, 30), True),
            ],
        )

    def test_run_outside_the_changes_is_not_warned(self):
        self.assertEqual(dst_warnings(Schedule("0 12 * * *", "Europe/Berlin"), NOW), [])

    def test_weekday_that_misses_the_change_day_is_not_warned(self):
        # 29 March and 25 October 2026 are Sundays.
        self.assertEqual(
            dst_warnings(Schedule("30 2 * * 1-5", "Europe/Berlin"), NOW), []
        )

    def test_cadence_jobs_are_warned_as_such(self):
        warnings = dst_warnings(Schedule("*/15 * * * *", "America/New_York"), NOW)
        self.assertEqual([w.fixed_time for w in warnings], [False, False])
        self.assertEqual(warnings[0].wall_time, datetime(2026, 3, 8, 2, 0))
