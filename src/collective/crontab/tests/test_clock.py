"""The clock without Zope running: the <clock-server> section, the beat
(wall-clock alignment, skipping instead of overlapping) and when it starts."""

from collective.crontab import clock
from io import StringIO
from Zope2.Startup.options import ZopeWSGIOptions

import base64
import logging
import unittest
import ZConfig


def _zope_schema():
    options = ZopeWSGIOptions()
    options.load_schema()
    return options.schema


SCHEMA = _zope_schema()
HEAD = """\
%define INSTANCE /tmp
instancehome $INSTANCE
%import collective.crontab
"""


def section(*lines, name="tick"):
    body = "".join(f"  {line}\n" for line in lines)
    return f"<clock-server {name}>\n{body}</clock-server>\n"


def parse(sections):
    config, _ = ZConfig.loadConfigFile(SCHEMA, StringIO(HEAD + sections))
    return config.product_config


class ClockServerSectionTests(unittest.TestCase):
    def assertRefused(self, section, key):
        with self.assertRaises(ZConfig.ConfigurationError) as caught:
            parse(section)
        self.assertIn(key, str(caught.exception))

    def test_classic_section(self):
        sections = parse(
            "<clock-server tick>\n"
            "  method /Plone/@@crontab-tick?verbose=1\n"
            "  period 300\n"
            "  user cron\n"
            "  password secret\n"
            "  host www.example.org\n"
            "</clock-server>\n"
        )
        self.assertEqual(
            sections["tick"],
            clock.ClockServer(
                name="tick",
                method="/Plone/@@crontab-tick?verbose=1",
                period=300,
                user="cron",
                password="secret",
                host="www.example.org",
            ),
        )

    def test_period_defaults_to_a_minute(self):
        sections = parse(
            "<clock-server tick>\n  method /Plone/@@crontab-tick\n</clock-server>\n"
        )
        self.assertEqual(sections["tick"].period, 60)
        self.assertIsNone(sections["tick"].password)

    def test_several_sections_are_several_clocks(self):
        sections = parse(
            section("method /a/@@crontab-tick", name="a")
            + section("method /b/@@crontab-tick", "period 0.5", name="b")
        )
        self.assertEqual(sorted(sections), ["a", "b"])
        self.assertEqual(sections["b"].period, 0.5)

    def test_missing_method_is_refused(self):
        self.assertRefused(
            "<clock-server tick>\n  period 60\n</clock-server>\n", "method"
        )

    def test_relative_method_is_refused(self):
        self.assertRefused(
            "<clock-server tick>\n  method Plone/@@crontab-tick\n</clock-server>\n",
            "method",
        )

    def test_period_zero_is_refused(self):
        self.assertRefused(
            section("method /Plone/@@crontab-tick", "period 0"),
            "period",
        )

    def test_negative_period_is_refused(self):
        self.assertRefused(
            section("method /Plone/@@crontab-tick", "period -60"),
            "period",
        )

    def test_non_numeric_period_is_refused(self):
        self.assertRefused(
            section("method /Plone/@@crontab-tick", "period often"),
            "period",
        )

    def test_password_without_user_is_refused(self):
        self.assertRefused(
            section("method /Plone/@@crontab-tick", "password x"),
            "password",
        )


class FakeTime:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class SlowClock(clock.Clock):
    """A clock whose ticks take ``duration`` seconds of the fake time."""

    def __init__(self, config, time, duration):
        super().__init__(config, clock=time)
        self.duration = duration
        self.ticks = []

    def tick(self):
        self.ticks.append(self.clock())
        self.clock.now += self.duration


CONFIG = clock.ClockServer(name="tick", method="/Plone/@@crontab-tick", period=60)


class BeatTests(unittest.TestCase):
    def test_beats_fall_on_multiples_of_the_period(self):
        self.assertEqual(clock.next_beat(1000.5, 60), 1020)
        self.assertEqual(clock.next_beat(1020, 60), 1080)
        self.assertEqual(clock.next_beat(7.2, 5), 10)

    def test_first_wait_is_until_the_next_multiple(self):
        time = FakeTime(1000.5)
        self.assertEqual(clock.Clock(CONFIG, clock=time).wait(), 19.5)

    def test_quick_tick_plans_the_next_period(self):
        time = FakeTime(1000.5)
        beat = SlowClock(CONFIG, time, duration=2)
        time.now += beat.wait()
        self.assertEqual(beat.beat(), 0)
        self.assertEqual(beat.ticks, [1020])
        self.assertEqual(beat.due, 1080)
        self.assertEqual(beat.wait(), 58)

    def test_slow_tick_skips_the_beats_it_overran(self):
        time = FakeTime(1000.5)
        beat = SlowClock(CONFIG, time, duration=130)
        time.now += beat.wait()
        with self.assertLogs("collective.crontab.clock", logging.WARNING) as logs:
            self.assertEqual(beat.beat(), 2)
        self.assertIn("2 tick(s) skipped", logs.output[0])
        # The next tick waits for the next beat after the slow one ended:
        # no overlap, no burst of late ticks.
        self.assertEqual(beat.due, 1200)
        self.assertEqual(beat.wait(), 1200 - 1150)


class EnvironTests(unittest.TestCase):
    def test_get_with_query_and_host(self):
        config = clock.ClockServer(
            name="t", method="/Plone/@@crontab-tick?x=1", host="www.example.org:8080"
        )
        environ = clock.Clock(config).environ()
        self.assertEqual(environ["REQUEST_METHOD"], "GET")
        self.assertEqual(environ["PATH_INFO"], "/Plone/@@crontab-tick")
        self.assertEqual(environ["QUERY_STRING"], "x=1")
        self.assertEqual(environ["HTTP_HOST"], "www.example.org:8080")
        self.assertEqual(environ["SERVER_NAME"], "www.example.org")
        self.assertEqual(environ["SERVER_PORT"], "8080")

    def test_user_and_password_make_basic_auth(self):
        config = clock.ClockServer(name="t", method="/p", user="cron", password="s:e")
        environ = clock.Clock(config).environ()
        scheme, token = environ["HTTP_AUTHORIZATION"].split()
        self.assertEqual(scheme, "Basic")
        self.assertEqual(base64.b64decode(token), b"cron:s:e")
        self.assertNotIn(clock.USER_KEY, environ)

    def test_user_without_password_logs_in_in_process(self):
        config = clock.ClockServer(name="t", method="/p", user="crontab-clock")
        environ = clock.Clock(config).environ()
        self.assertEqual(environ[clock.USER_KEY], "crontab-clock")
        self.assertNotIn("HTTP_AUTHORIZATION", environ)

    def test_start_line_is_the_classic_one(self):
        config = clock.ClockServer(
            name="t", method="/Plone/@@crontab-tick", user="cron"
        )
        self.assertEqual(
            clock.Clock(config).describe(),
            'Clock server for "/Plone/@@crontab-tick" started (user: cron, period: 60)',
        )


class ServingTests(unittest.TestCase):
    class Main:
        __file__ = "/venv/lib/python3.11/site-packages/Zope2/Startup/serve.py"

    def test_runwsgi_starts_clocks(self):
        self.assertTrue(clock.serving({}, {"Zope2.Startup.serve": object()}))

    def test_serve_script_starts_clocks(self):
        # plone.recipe.zope2instance's bin/instance runs serve.py as a script
        self.assertTrue(clock.serving({}, {"__main__": self.Main}))

    def test_zconsole_scripts_do_not(self):
        modules = {
            "Zope2.utilities.zconsole": object(),
            "Zope2.Startup.serve": object(),
        }
        self.assertFalse(clock.serving({}, modules))

    def test_other_processes_do_not(self):
        self.assertFalse(clock.serving({}, {"__main__": object()}))

    def test_environment_switches_off(self):
        modules = {"Zope2.Startup.serve": object()}
        self.assertFalse(clock.serving({"CRONTAB_CLOCK": "off"}, modules))

    def test_environment_switches_on(self):
        self.assertTrue(clock.serving({"CRONTAB_CLOCK": "on"}, {}))
