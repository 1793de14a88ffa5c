"""crontab-ctl against a real instance built by collective.crontab.instance."""

from collective.crontab.instance import create_site
from collective.crontab.instance import write_instance
from collective.crontab.testing import listen_port
from collective.crontab.tests.test_notifications import PingServer
from pathlib import Path

import json
import subprocess
import sys
import tempfile
import unittest


BIN = Path(sys.executable).parent


ADD_BROKEN_JOB = """\
from AccessControl.SecurityManagement import newSecurityManager
from collective.crontab import api
from zope.component.hooks import setSite
import transaction
setSite(app.Plone)
newSecurityManager(None, app.acl_users.getUser("admin").__of__(app.acl_users))
api.add_job("broken", title="Broken view", runner="collective.crontab.call-view",
            schedule="0 3 * * *", arguments={"path": "@@no-such-view"})
transaction.commit()
"""


SET_PING_URL = """\
from AccessControl.SecurityManagement import newSecurityManager
from collective.crontab import api
from collective.crontab.notifications import ALLOW_PRIVATE
from plone.registry.interfaces import IRegistry
from zope.component import getUtility
from zope.component.hooks import setSite
import sys
import transaction
setSite(app.Plone)
newSecurityManager(None, app.acl_users.getUser("admin").__of__(app.acl_users))
api.update_job("demo", ping_url=sys.argv[-1])
getUtility(IRegistry)[ALLOW_PRIVATE] = bool(sys.argv[-1])
transaction.commit()
"""


class InstanceLayer:
    """A FileStorage instance with a Plone site, the demo job and a job that
    fails, made by collective.crontab.instance in a temporary directory."""

    __name__ = "InstanceLayer"
    __bases__ = ()

    @classmethod
    def setUp(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="crontab-ctl-")
        cls.home = write_instance(
            Path(cls.tmp.name) / "instance", port=listen_port(510)
        )
        create_site(cls.home, "Plone", demo_job=True)
        script = cls.home / "add_broken_job.py"
        script.write_text(ADD_BROKEN_JOB)
        subprocess.run(
            [
                str(BIN / "zconsole"),
                "run",
                str(cls.home / "etc" / "zope.conf"),
                str(script),
            ],
            check=True,
            capture_output=True,
        )

    @classmethod
    def tearDown(cls):
        cls.tmp.cleanup()


class TestCrontabCtl(unittest.TestCase):
    layer = InstanceLayer
    level = 2  # starts Zope once per command

    def ctl_run(self, *args):
        return subprocess.run(
            [
                str(BIN / "crontab-ctl"),
                "-C",
                str(self.layer.home / "etc" / "zope.conf"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_list_shows_every_job_with_schedule_and_status(self):
        result = self.ctl_run("list")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(
            lines[0].split(), ["ID", "ON", "SCHEDULE", "NEXT", "RUN", "LAST", "TITLE"]
        )
        self.assertEqual([line.split()[0] for line in lines[1:]], ["broken", "demo"])
        self.assertIn("0 3 * * *", lines[1])

    def test_show_prints_the_fields(self):
        result = self.ctl_run("--site", "Plone", "show", "demo")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            "runner:             collective.crontab.content-count", result.stdout
        )
        self.assertIn("schedule:           * * * * *", result.stdout)

    def test_show_prints_every_field_in_the_schema_order_then_the_state(self):
        from collective.crontab.cli import STATE
        from collective.crontab.jobs import FIELDS

        result = self.ctl_run("show", "demo")
        names = [line.split(":")[0] for line in result.stdout.splitlines()]
        self.assertEqual(names[: 1 + len(FIELDS) + len(STATE)], ["id", *FIELDS, *STATE])

    def test_run_records_the_run_and_history_shows_it(self):
        result = self.ctl_run("run", "demo")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(
            result.stdout, r"^demo: success in \d+\.\ds\n\d+ items in the catalog\n$"
        )
        history = self.ctl_run("history", "demo")
        self.assertEqual(history.returncode, 0, history.stderr)
        self.assertIn("success", history.stdout.splitlines()[0])
        self.assertIn("items in the catalog", history.stdout.splitlines()[0])

    def zconsole(self, code, *args):
        script = self.layer.home / "script.py"
        script.write_text(code)
        conf = self.layer.home / "etc" / "zope.conf"
        command = [str(BIN / "zconsole"), "run", str(conf), str(script), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def test_run_sends_its_pings_before_the_process_ends(self):
        server = PingServer(listen_port(511))
        self.addCleanup(server.stop)
        self.zconsole(SET_PING_URL, f"http://127.0.0.1:{server.server_port}/hc")
        self.addCleanup(self.zconsole, SET_PING_URL, "")
        result = self.ctl_run("run", "demo")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server.paths, ["/hc/start", "/hc"])

    def test_a_failing_run_exits_1_with_the_traceback(self):
        result = self.ctl_run("run", "broken")
        self.assertEqual(result.returncode, 1)
        self.assertIn("broken: failure", result.stdout)
        self.assertIn("AttributeError: @@no-such-view", result.stdout)
        self.assertIn("Traceback (most recent call last)", result.stderr)

    def test_disable_and_enable_are_in_the_change_log_as_cli(self):
        self.assertEqual(self.ctl_run("disable", "demo").returncode, 0)
        self.assertEqual(self.ctl_run("enable", "demo").returncode, 0)
        result = self.ctl_run("changes", "demo", "--limit", "2")
        self.assertEqual(result.returncode, 0, result.stderr)
        enabled, disabled = result.stdout.splitlines()
        self.assertRegex(
            enabled,
            r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC  admin  cli .*"
            r"enabled: False -> True",
        )
        self.assertIn("enabled: True -> False", disabled)

    def test_disable_and_enable(self):
        self.assertEqual(self.ctl_run("disable", "broken").stdout, "broken disabled\n")
        self.assertIn(
            "enabled:            False", self.ctl_run("show", "broken").stdout
        )
        self.assertEqual(self.ctl_run("enable", "broken").returncode, 0)
        self.assertIn("enabled:            True", self.ctl_run("show", "broken").stdout)

    def test_tick_prints_the_summary(self):
        result = self.ctl_run("tick")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["jobs"], 2)
        self.assertEqual(summary["invalid"], {})

    def test_unknown_job_exits_2(self):
        result = self.ctl_run("run", "nope")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr.strip(), "crontab-ctl: There is no cron job 'nope'"
        )

    def test_unknown_site_and_user_exit_2(self):
        result = self.ctl_run("--site", "Other", "list")
        self.assertEqual(result.returncode, 2)
        self.assertIn("there is no Plone site 'Other' (found: Plone)", result.stderr)
        result = self.ctl_run("--user", "nobody", "list")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no user nobody in the Zope root", result.stderr)

    def test_usage_errors_exit_2(self):
        result = self.ctl_run("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("invalid choice: 'frobnicate'", result.stderr)
