"""The clock without Zope running: the <clock-server> section, the beat
(wall-clock alignment, a lane per call, skipping when all are busy) and
when it starts."""

from collective.crontab import clock
from io import StringIO
from Zope2.Startup.options import ZopeWSGIOptions

import base64
import dataclasses
import logging
import threading
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

    def test_three_workers_by_default(self):
        sections = parse(section("method /Plone/@@crontab-tick"))
        self.assertEqual(sections["tick"].workers, 3)
        sections = parse(section("method /Plone/@@crontab-tick", "workers 1"))
        self.assertEqual(sections["tick"].workers, 1)

    def test_workers_below_one_are_refused(self):
        for value in ("0", "-2", "many", "1.5"):
            self.assertRefused(
                section("method /Plone/@@crontab-tick", f"workers {value}"),
                "workers",
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


class FakeCalls(clock.ClockThread):
    """A clock whose calls are fake threads; a call runs until told
    (``FakeCall.running``) if it is long, else ends at once."""

    def __init__(self, config, time, long=True):
        super().__init__(config, wall_time=time)
        self.started = []
        self.long = long  # whether the calls started from now on are long

    def start_call(self, lane):
        self.started.append((self.wall_time(), lane))
        return FakeCall(self.long)

    def step(self):
        """One turn of ``run``: wait (on the fake time), then beat or hand over."""
        self.wall_time.now += self.wait()
        return self.beat() if self.wall_time() >= self.due else self.hand_over()


class FakeCall:
    def __init__(self, running):
        self.running = running

    def is_alive(self):
        return self.running


CONFIG = clock.ClockServer(name="tick", method="/Plone/@@crontab-tick", period=60)


class BeatTests(unittest.TestCase):
    def test_beats_fall_on_multiples_of_the_period(self):
        self.assertEqual(clock.next_beat(1000.5, 60), 1020)
        self.assertEqual(clock.next_beat(1020, 60), 1080)
        self.assertEqual(clock.next_beat(7.2, 5), 10)

    def test_first_wait_is_until_the_next_multiple(self):
        time = FakeTime(1000.5)
        self.assertEqual(clock.ClockThread(CONFIG, wall_time=time).wait(), 19.5)

    def test_a_quick_call_and_the_next_beat(self):
        time = FakeTime(1000.5)
        beat = FakeCalls(CONFIG, time, long=False)
        self.assertEqual(beat.step(), 0)
        self.assertEqual(beat.started, [(1020, 0)])
        self.assertEqual(beat.due, 1080)
        self.assertIsNone(beat.step())  # the call ended: nothing to hand over
        self.assertEqual(beat.wait(), 1080 - time.now)
        self.assertEqual(beat.step(), 0)
        self.assertEqual(beat.started, [(1020, 0), (1080, 0)])

    def test_beats_during_a_long_call_start_calls_in_other_lanes(self):
        time = FakeTime(1020)
        beat = FakeCalls(CONFIG, time)
        beat.step()  # 1080: the long call, in lane 0
        beat.long = False
        while time.now < 1200:
            beat.step()
        self.assertEqual(
            beat.started,
            [(1080, 0), (1080 + clock.HAND_OVER, 1), (1140, 1), (1200, 1)],
        )

    def test_beat_skipped_while_every_lane_is_busy(self):
        time = FakeTime(1020)
        beat = FakeCalls(dataclasses.replace(CONFIG, workers=2), time)
        self.assertEqual([beat.step(), beat.step()], [0, 1])  # beat, hand over
        self.assertIsNone(beat.step())  # hand over: no lane left
        with self.assertLogs("collective.crontab.clock", logging.WARNING) as logs:
            self.assertIsNone(beat.step())
        self.assertEqual(time.now, 1140)
        self.assertIn("all 2 workers are still busy", logs.output[0])
        self.assertEqual(beat.due, 1200)  # skipped, not run late
        beat.lanes[1].running = False  # the second call ends
        self.assertEqual(beat.step(), 1)
        self.assertEqual(beat.started[-1], (1200, 1))

    def test_one_worker_skips_the_beats_a_call_overran(self):
        time = FakeTime(1020)
        beat = FakeCalls(dataclasses.replace(CONFIG, workers=1), time)
        beat.step()
        self.assertIsNone(beat.step())  # no lane to hand over to
        with self.assertLogs("collective.crontab.clock", logging.WARNING):
            self.assertIsNone(beat.step())
        self.assertEqual(len(beat.started), 1)


class HandOverTests(unittest.TestCase):
    """A call still running HAND_OVER seconds after its beat (a long job
    came first) hands the other jobs of that beat to one more call."""

    def setUp(self):
        self.time = FakeTime(1020)
        self.beat = FakeCalls(CONFIG, self.time)
        self.beat.step()

    def test_the_clock_wakes_up_to_hand_over(self):
        self.assertEqual(self.beat.wait(), clock.HAND_OVER)
        self.time.now += clock.HAND_OVER
        self.assertEqual(self.beat.hand_over(), 1)
        self.assertEqual(self.beat.started, [(1080, 0), (1080 + clock.HAND_OVER, 1)])

    def test_hand_over_again_while_both_still_run_then_lanes_run_out(self):
        lanes = []
        for _step in range(3):
            self.time.now += self.beat.wait()
            lanes.append(self.beat.hand_over())
        self.assertEqual(lanes, [1, 2, None])
        self.assertEqual(self.beat.wait(), 1140 - self.time.now)

    def test_no_hand_over_once_a_call_of_the_beat_ended(self):
        self.beat.lanes[0].running = False
        self.time.now += self.beat.wait()
        self.assertIsNone(self.beat.hand_over())
        self.assertEqual(len(self.beat.started), 1)
        self.assertEqual(self.beat.wait(), 1140 - self.time.now)


class LaneThreadTests(unittest.TestCase):
    """Real call threads: overlapping calls run at once, and stopping
    waits for all of them."""

    def test_overlapping_calls_run_in_threads_and_stop_waits_for_them(self):
        release = threading.Event()
        running = []

        class Blocking(clock.ClockThread):
            def call_method(self):
                running.append(threading.current_thread().name)
                release.wait(10)
                running.remove(threading.current_thread().name)

        beat = Blocking(dataclasses.replace(CONFIG, workers=2), wall_time=FakeTime(0))
        self.assertEqual([beat.beat(), beat.beat(), beat.beat()], [0, 1, None])
        for _attempt in range(100):
            if len(running) == 2:
                break
            threading.Event().wait(0.05)
        self.assertEqual(
            sorted(running),
            ["clock-server tick worker 1", "clock-server tick worker 2"],
        )
        beat.start()
        clock._clocks.append(beat)
        threading.Timer(0.3, release.set).start()
        clock.stop_clocks(grace=10)
        self.assertEqual(running, [])
        self.assertEqual(beat.calls(), [])


class EnvironTests(unittest.TestCase):
    def test_get_with_query_and_host(self):
        config = clock.ClockServer(
            name="t", method="/Plone/@@crontab-tick?x=1", host="www.example.org:8080"
        )
        environ = clock.ClockThread(config).environ()
        self.assertEqual(environ["REQUEST_METHOD"], "GET")
        self.assertEqual(environ["PATH_INFO"], "/Plone/@@crontab-tick")
        self.assertEqual(environ["QUERY_STRING"], "x=1")
        self.assertEqual(environ["HTTP_HOST"], "www.example.org:8080")
        self.assertEqual(environ["SERVER_NAME"], "www.example.org")
        self.assertEqual(environ["SERVER_PORT"], "8080")

    def test_user_and_password_make_basic_auth(self):
        config = clock.ClockServer(name="t", method="/p", user="cron", password="s:e")
        environ = clock.ClockThread(config).environ()
        scheme, token = environ["HTTP_AUTHORIZATION"].split()
        self.assertEqual(scheme, "Basic")
        self.assertEqual(base64.b64decode(token), b"cron:s:e")
        self.assertNotIn(clock.USER_KEY, environ)

    def test_user_without_password_logs_in_in_process(self):
        config = clock.ClockServer(name="t", method="/p", user="crontab-clock")
        environ = clock.ClockThread(config).environ()
        self.assertEqual(environ[clock.USER_KEY], "crontab-clock")
        self.assertNotIn("HTTP_AUTHORIZATION", environ)

    def test_start_line_is_the_classic_one(self):
        config = clock.ClockServer(
            name="t", method="/Plone/@@crontab-tick", user="cron"
        )
        self.assertEqual(
            clock.ClockThread(config).describe(),
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
