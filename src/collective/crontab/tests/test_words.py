"""Schedules in words, as the control panel shows them (job list, preview):
they say what schedule.py makes of an expression, in English and German."""

from collective.crontab.controlpanel.views import in_words
from collective.crontab.schedule import _parse
from collective.crontab.schedule import ScheduleError
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.tests.test_schedule_debian import EXPRESSIONS
from hypothesis import given
from hypothesis import settings

import re
import unittest


WORDS = (
    # AND: one day field starts with '*', so a day must match both.
    (
        "0 0 */2 * 1",
        "At 00:00, every 2 days of the month from day 1 to 31, if it is Monday",
        "Um 00:00, alle 2 Tage des Monats vom Tag 1 bis 31, wenn es Montag ist",
    ),
    (
        "0 0 1-7 * */2",
        "At 00:00, on days 1 to 7 of the month, if it is Sunday, Tuesday, "
        "Thursday or Saturday",
        "Um 00:00, an den Tagen 1 bis 7 des Monats, wenn es Sonntag, Dienstag, "
        "Donnerstag oder Samstag ist",
    ),
    (
        "0 0 */2 * 1-5,0L,3#1",
        "At 00:00, every 2 days of the month from day 1 to 31, if it is a day "
        "from Monday to Friday, the last Sunday of the month or the 1st "
        "Wednesday of the month",
        "Um 00:00, alle 2 Tage des Monats vom Tag 1 bis 31, wenn es ein Tag von "
        "Montag bis Freitag, der letzte Sonntag des Monats oder der 1. Mittwoch "
        "des Monats ist",
    ),
    # OR: neither starts with '*', so a day matching either runs.
    (
        "30 2 L * 1#2",
        "At 02:30, on the last day of the month or on the 2nd Monday of the month",
        "Um 02:30, am letzten Tag des Monats oder am 2. Montag des Monats",
    ),
    (
        "0 9 1,15 * 1-5",
        "At 09:00, on days 1 and 15 of the month or from Monday to Friday",
        "Um 09:00, an den Tagen 1 und 15 des Monats oder von Montag bis Freitag",
    ),
    (
        "0 0 1,LW * 5L",
        "At 00:00, on day 1 of the month and on the last weekday of the month "
        "or on the last Friday of the month",
        "Um 00:00, am Tag 1 des Monats und am letzten Werktag (Montag bis "
        "Freitag) des Monats oder am letzten Freitag des Monats",
    ),
    (
        "0 0 5-20/5 * 1-5/2",
        "At 00:00, every 5 days of the month from day 5 to 20 or on Monday, "
        "Wednesday and Friday",
        "Um 00:00, alle 5 Tage des Monats vom Tag 5 bis 20 oder am Montag, "
        "Mittwoch und Freitag",
    ),
    # One day field.
    (
        "0 0 L,15 * *",
        "At 00:00, on day 15 of the month and on the last day of the month",
        "Um 00:00, am Tag 15 des Monats und am letzten Tag des Monats",
    ),
    (
        "0 3 L/2 * *",
        "At 03:00, on the last day of the month",
        "Um 03:00, am letzten Tag des Monats",
    ),
    (
        "0 0 * * 1#1,5L",
        "At 00:00, on the 1st Monday of the month and on the last Friday of the month",
        "Um 00:00, am 1. Montag des Monats und am letzten Freitag des Monats",
    ),
    ("0 3 * * 7/3", "At 03:00, on Sunday", "Um 03:00, am Sonntag"),
    (
        "0 0 * * 0,2-4,6",
        "At 00:00, on Sunday, from Tuesday to Thursday and on Saturday",
        "Um 00:00, am Sonntag, von Dienstag bis Donnerstag und am Samstag",
    ),
    (
        "0 12 * * 6,0",
        "At 12:00, on Sunday and Saturday",
        "Um 12:00, am Sonntag und Samstag",
    ),
    # Months.
    (
        "0 0 * */3 *",
        "At 00:00, in January, April, July and October",
        "Um 00:00, im Januar, April, Juli und Oktober",
    ),
    (
        "15,45 8-18 * JAN-MAR,DEC *",
        "At minutes 15 and 45, between 08:00 and 18:59, from January to March "
        "and in December",
        "In den Minuten 15 und 45, zwischen 08:00 und 18:59, von Januar bis März "
        "und im Dezember",
    ),
    # Minutes and hours.
    ("* * * * *", "Every minute", "Jede Minute"),
    ("*/5 * * * *", "Every 5 minutes", "Alle 5 Minuten"),
    (
        "*/5 2 * * *",
        "Every 5 minutes, between 02:00 and 02:59",
        "Alle 5 Minuten, zwischen 02:00 und 02:59",
    ),
    ("0,30 2 * * *", "At 02:00 and 02:30", "Um 02:00 und 02:30"),
    (
        "*/7 * * * *",
        "At minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56, every hour",
        "In den Minuten 0, 7, 14, 21, 28, 35, 42, 49 und 56, stündlich",
    ),
    (
        "*/10 0-3,8 * * *",
        "Every 10 minutes, in the hours 0 to 3 and 8",
        "Alle 10 Minuten, in den Stunden 0 bis 3 und 8",
    ),
    # Aliases.
    ("@hourly", "At minute 0, every hour", "In Minute 0, stündlich"),
    ("@daily", "At 00:00", "Um 00:00"),
    ("@weekly", "At 00:00, on Sunday", "Um 00:00, am Sonntag"),
    ("@monthly", "At 00:00, on day 1 of the month", "Um 00:00, am Tag 1 des Monats"),
    (
        "@yearly",
        "At 00:00, on day 1 of the month, in January",
        "Um 00:00, am Tag 1 des Monats, im Januar",
    ),
)
#: The words joining the day fields: (AND, OR) in English and German.
CONNECTIVES = {
    "en": (re.compile(", if it is "), re.compile(" or (on|from) ")),
    "de": (re.compile(", wenn es .* ist"), re.compile(" oder (am|von) ")),
}
#: English that German words must not have.
ENGLISH = re.compile(r"day|Monday|Friday|Sunday|January|March| and | or | of the ")


class TestWords(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def test_english_and_german(self):
        for expression, english, german in WORDS:
            with self.subTest(expression):
                self.assertEqual(in_words(expression, "en"), english)
                self.assertEqual(in_words(expression, "de"), german)

    def test_other_languages_get_english(self):
        self.assertEqual(in_words("0 0 * * 1", "fr"), "At 00:00, on Monday")

    def test_invalid_expressions_have_no_words(self):
        self.assertEqual(in_words("0 0 5-1 * *", "en"), "")

    @settings(max_examples=1000, derandomize=True, deadline=None, database=None)
    @given(EXPRESSIONS)
    def test_every_accepted_expression_in_words(self, expression):
        """Words for every expression schedule.py accepts; they name how the
        day fields are joined exactly when both are restricted."""
        try:
            normal, sets, day_and = _parse(expression)
        except ScheduleError:
            return
        dom, dow = normal.split()[2::2]
        weekdays = {day % 7 for day in sets[4] if isinstance(day, int)}
        both = not (dom.startswith("*") and sets[2] >= set(range(1, 32))) and not (
            dow.startswith("*") and len(weekdays) == 7
        )
        for language, (and_words, or_words) in CONNECTIVES.items():
            words = in_words(expression, language)
            self.assertNotIn("$", words)
            self.assertEqual(bool(and_words.search(words)), both and day_and, words)
            self.assertEqual(bool(or_words.search(words)), both and not day_and, words)
        self.assertIsNone(ENGLISH.search(in_words(expression, "de")))
