"""The control panel, through zope.testbrowser against a real Plone site."""

from collective.crontab import api
from collective.crontab.interfaces import ICronJobForm
from collective.crontab.jobs import FIELDS
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.testing import FUNCTIONAL_TESTING
from collective.crontab.tests.runners import traces
from datetime import timedelta
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.testing.zope import Browser
from zope.component.hooks import setSite
from zope.i18n import translate

import re
import transaction
import unittest


PASSWORD = "secret-password-1"


class PanelTestCase(unittest.TestCase):
    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.portal_url = self.portal.absolute_url()
        self.panel_url = self.portal_url + "/@@crontab-controlpanel"
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        for user_id, roles in (
            ("siteadmin", ["Site Administrator"]),
            ("editor", ["Editor"]),
            ("member", ["Member"]),
        ):
            self.portal.acl_users.userFolderAddUser(user_id, PASSWORD, roles, [])
        transaction.commit()

    def browser(self, user="siteadmin"):
        browser = Browser(self.app)
        browser.handleErrors = False
        if user == SITE_OWNER_NAME:
            browser.addHeader(
                "Authorization", f"Basic {SITE_OWNER_NAME}:{SITE_OWNER_PASSWORD}"
            )
        elif user:
            browser.addHeader("Authorization", f"Basic {user}:{PASSWORD}")
        return browser

    def add(self, job_id, runner="test.record", schedule="0 3 * * *", **fields):
        setSite(self.portal)
        fields.setdefault("title", job_id.title())
        job = api.add_job(job_id, runner=runner, schedule=schedule, **fields)
        transaction.commit()
        return job

    def tick(self, now=None):
        setSite(self.portal)
        summary = api.tick(now=now)
        transaction.commit()
        return summary

    def job(self, job_id):
        self.portal._p_jar.sync()
        setSite(self.portal)
        try:
            return api.get_job(job_id)
        except KeyError:
            return None

    def row(self, browser, job_id):
        match = re.search(
            rf'<tr[^>]*id="job-{re.escape(job_id)}".*?</tr>', browser.contents, re.S
        )
        self.assertIsNotNone(match, f"no row for {job_id}")
        return match.group(0)


class TestJobList(PanelTestCase):
    def test_list_shows_schedule_in_words_timezone_runner_and_next_run(self):
        self.add("nightly", title="Nightly cleanup", timezone="Europe/Berlin")
        browser = self.browser()
        browser.open(self.panel_url)
        row = self.row(browser, "nightly")
        self.assertIn("Nightly cleanup", row)
        self.assertIn("0 3 * * *", row)
        self.assertIn("At 03:00", row)
        self.assertIn("Europe/Berlin", row)
        self.assertIn("Test runner", row)
        self.assertRegex(row, r"in \d+ (h|min|d)")
        self.assertIn("Never ran", row)


class TestHistory(PanelTestCase):
    def fail_then_succeed(self):
        """Job 'flaky': one failed run, then one successful run."""
        self.add("flaky", runner="test.fail", title="Flaky")
        setSite(self.portal)
        api.run_now("flaky")
        self.tick()
        api.update_job("flaky", runner="test.record")
        api.run_now("flaky")
        self.tick()

    def test_history_lists_runs_newest_first_with_traceback(self):
        self.fail_then_succeed()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=flaky")
        runs = re.findall(
            r'<tr class="crontab-run crontab-run-(\w+)"', browser.contents
        )
        self.assertEqual(runs, ["success", "failure"])
        self.assertIn("recorded flaky", browser.contents)
        self.assertIn("RuntimeError: the runner broke on purpose", browser.contents)
        self.assertIn("<summary", browser.contents)

    def test_message_and_traceback_are_escaped(self):
        self.add("loud", title="Loud")
        started = utcnow()
        get_crontab(self.portal).state("loud", create=True).append(
            100,
            slot=started,
            started=started,
            finished=started,
            duration=0.5,
            status="failure",
            message="<script>alert('message')</script>",
            traceback="<img src=x onerror=alert(2)>",
            client="here",
        )
        transaction.commit()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=loud")
        self.assertNotIn("<script>alert('message')</script>", browser.contents)
        self.assertNotIn("<img src=x", browser.contents)
        self.assertIn("&lt;script&gt;alert('message')&lt;/script&gt;", browser.contents)
        self.assertIn("&lt;img src=x onerror=alert(2)&gt;", browser.contents)

    def test_status_filter_shows_only_that_status(self):
        self.fail_then_succeed()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=flaky&status=failure")
        runs = re.findall(
            r'<tr class="crontab-run crontab-run-(\w+)"', browser.contents
        )
        self.assertEqual(runs, ["failure"])

    def test_history_is_batched(self):
        self.add("busy", title="Busy")
        setSite(self.portal)
        for _index in range(55):
            api.run_now("busy")
            api.tick()
        transaction.commit()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=busy")
        self.assertEqual(browser.contents.count('class="crontab-run '), 50)
        browser.getLink(url="b_start:int=50").click()
        self.assertEqual(browser.contents.count('class="crontab-run '), 5)

    def test_delete_history_asks_then_deletes_on_post(self):
        self.add("flaky", runner="test.fail", title="Flaky")
        setSite(self.portal)
        api.run_now("flaky")
        self.tick()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=flaky")
        browser.getLink("Delete history").click()
        self.assertIn("Delete every recorded run of Flaky?", browser.contents)
        self.assertEqual(len(api.history("flaky")), 1)
        browser.getControl("Delete history").click()
        self.assertIn("Deleted the history of Flaky.", browser.contents)
        self.assertIn("No runs recorded.", browser.contents)
        self.portal._p_jar.sync()
        self.assertEqual(api.history("flaky"), [])

    def test_unknown_job_is_not_found(self):
        from zExceptions import NotFound

        browser = self.browser()
        with self.assertRaises(NotFound):
            browser.open(self.portal_url + "/@@crontab-history?job=nope")


class TestListing(PanelTestCase):
    def test_title_is_escaped(self):
        self.add("xss", title="<script>alert(1)</script>")
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertNotIn("<script>alert(1)</script>", browser.contents)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", browser.contents)

    def test_last_run_badge_and_strip_of_recent_runs(self):
        self.add("flaky", runner="test.fail", title="Flaky")
        setSite(self.portal)
        for runner in ("test.record", "test.warn", "test.fail"):
            api.update_job("flaky", runner=runner)
            api.run_now("flaky")
            self.tick()
        browser = self.browser()
        browser.open(self.panel_url)
        row = self.row(browser, "flaky")
        self.assertRegex(row, r'crontab-last-status"[^>]*>Failure<')
        squares = re.findall(r'<span class="bg-(\w+)"\s+title="(\w+) ', row)
        self.assertEqual(
            squares,
            [("success", "Success"), ("warning", "Warning"), ("danger", "Failure")],
        )

    def test_broken_job_is_listed_with_its_error_and_can_be_fixed(self):
        from collective.crontab.jobs import write_job

        setSite(self.portal)
        write_job(
            "broken",
            {
                "title": "Broken",
                "runner": "gone.runner",
                "schedule": "60 * * * *",
                "timezone": "Mars/Olympus",
            },
        )
        transaction.commit()
        browser = self.browser()
        browser.open(self.panel_url)
        row = self.row(browser, "broken")
        self.assertIn("gone.runner", row)
        self.assertIn("the minute field '60' is out of range", row)
        browser.getLink(url="@@crontab-edit?job=broken").click()
        browser.getControl(name="form.widgets.runner:list").value = ["test.record"]
        browser.getControl(name="form.widgets.schedule").value = "0 * * * *"
        browser.getControl(name="form.widgets.timezone:list").value = ["Europe/Berlin"]
        browser.getControl("Save").click()
        job = self.job("broken")
        self.assertEqual(
            (job["runner"], job["schedule"], job["timezone"]),
            ("test.record", "0 * * * *", "Europe/Berlin"),
        )

    def test_list_is_batched(self):
        setSite(self.portal)
        for index in range(55):
            api.add_job(
                f"job-{index:02d}",
                title=f"Job {index}",
                runner="test.record",
                schedule="0 3 * * *",
            )
        transaction.commit()
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertEqual(browser.contents.count('<tr class="crontab-job'), 50)
        self.assertIn('id="job-job-49"', browser.contents)
        browser.getLink(url="b_start:int=50").click()
        self.assertEqual(browser.contents.count('<tr class="crontab-job'), 5)
        self.assertIn('id="job-job-54"', browser.contents)

    def test_clock_banner_warns_with_snippet_when_no_tick_arrived(self):
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertIn("No tick has ever reached this site.", browser.contents)
        self.assertIn("%import collective.crontab", browser.contents)
        self.assertIn("&lt;clock-server tick&gt;", browser.contents)
        self.assertIn("method /plone/@@crontab-tick", browser.contents)
        self.assertIn("period 60", browser.contents)
        self.assertIn(
            "curl --fail -u USER:PASSWORD http://HOST/plone/@@crontab-tick",
            browser.contents,
        )

    def test_clock_banner_shows_last_tick(self):
        self.tick()
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertRegex(
            browser.contents, r"Last tick\s+<span[^>]*>(\d+ s ago|just now)</span>"
        )
        self.assertNotIn("%import collective.crontab", browser.contents)

    def test_configlet_in_site_setup_with_alarm_icon(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@overview-controlpanel")
        link = browser.getLink(url="@@crontab-controlpanel")
        self.assertIn("Cron jobs", link.text)
        registry_icon = self.portal.portal_registry["plone.icon.alarm"]
        self.assertTrue(registry_icon.endswith("alarm.svg"))
        self.assertIn("bi-alarm", browser.contents)


class TestForms(PanelTestCase):
    def fill(self, browser, **values):
        for name, value in values.items():
            suffix = ":list" if isinstance(value, list) else ""
            browser.getControl(name=f"form.widgets.{name}{suffix}").value = value

    def form_fields(self, browser):
        """The ids of the form's fields, in order, each with its help text."""
        names = re.findall(r'id="formfield-form-widgets-([a-z_]+)"', browser.contents)
        for name in names:
            help_text = translate(ICronJobForm[name].description)
            self.assertIn(help_text, " ".join(browser.contents.split()), name)
        return names

    def test_add_form_shows_every_field_of_the_schema_in_its_order(self):
        browser = self.browser(SITE_OWNER_NAME)
        browser.open(self.portal_url + "/@@crontab-add")
        self.assertEqual(self.form_fields(browser), ["id", *FIELDS])

    def test_edit_form_shows_every_field_of_the_schema_with_its_value(self):
        self.add(
            "mailed",
            notify=["ops@example.org", "dev@example.org"],
            notify_recovery=True,
            ping_url="https://hc-ping.com/abc",
        )
        browser = self.browser(SITE_OWNER_NAME)
        browser.open(self.portal_url + "/@@crontab-edit?job=mailed")
        self.assertEqual(self.form_fields(browser), list(FIELDS))
        self.assertEqual(
            browser.getControl(name="form.widgets.notify").value,
            "ops@example.org\ndev@example.org",
        )
        self.assertEqual(
            browser.getControl(name="form.widgets.notify_recovery:list").value,
            ["selected"],
        )
        self.assertIn('type="url"', browser.contents)
        self.assertEqual(
            browser.getControl(name="form.widgets.ping_url").value,
            "https://hc-ping.com/abc",
        )

    def test_edit_form_saves_notifications_and_ping_url(self):
        self.add("mailed")
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-edit?job=mailed")
        browser.getControl(
            name="form.widgets.notify"
        ).value = "ops@example.org\r\ndev@example.org\r\n"
        browser.getControl(name="form.widgets.notify_recovery:list").value = [
            "selected"
        ]
        browser.getControl(name="form.widgets.ping_url").value = "https://hc.example/x"
        browser.getControl("Save").click()
        self.assertIn("Saved Mailed.", browser.contents)
        job = self.job("mailed")
        self.assertEqual(job["notify"], ["ops@example.org", "dev@example.org"])
        self.assertTrue(job["notify_recovery"])
        self.assertEqual(job["ping_url"], "https://hc.example/x")

        browser.open(self.portal_url + "/@@crontab-edit?job=mailed")
        browser.getControl(name="form.widgets.notify").value = ""
        browser.getControl(name="form.widgets.ping_url").value = ""
        browser.getControl("Save").click()
        job = self.job("mailed")
        self.assertEqual((job["notify"], job["ping_url"]), ([], ""))

    def test_a_bad_address_is_shown_at_the_notify_field(self):
        self.add("mailed")
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-edit?job=mailed")
        browser.getControl(name="form.widgets.notify").value = "ops at example"
        browser.getControl("Save").click()
        field = re.search(
            r'id="formfield-form-widgets-notify".*?</div>\s*</div>',
            browser.contents,
            re.S,
        ).group(0)
        self.assertIn("'ops at example' is not an e-mail address", field)
        self.assertEqual(self.job("mailed")["notify"], [])

    def test_add_job_records_editing_user_as_owner(self):
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getLink("Add cron job").click()
        self.assertNotIn("form.widgets.owner", browser.contents)
        self.assertIn(
            "The job runs with the rights of the user who saves it: you (siteadmin).",
            browser.contents,
        )
        self.fill(
            browser,
            id="nightly",
            title="Nightly",
            schedule="0 3 * * *",
            runner=["test.record"],
            timezone=["Europe/Berlin"],
        )
        browser.getControl("Save").click()
        self.assertEqual(browser.url, self.panel_url)
        self.assertIn("Saved Nightly.", browser.contents)
        job = self.job("nightly")
        self.assertEqual(job["schedule"], "0 3 * * *")
        self.assertEqual(job["timezone"], "Europe/Berlin")
        self.assertEqual(job["owner"], "siteadmin")

    def test_bad_schedule_shows_inline_error_and_stores_nothing(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(
            browser,
            id="nightly",
            title="Nightly",
            schedule="0 25 * * *",
            runner=["test.record"],
        )
        browser.getControl("Save").click()
        field = re.search(
            r'id="formfield-form-widgets-schedule".*?</div>\s*</div>',
            browser.contents,
            re.S,
        ).group(0)
        self.assertIn("the hour field '25' is out of range", field)
        self.assertIsNone(self.job("nightly"))
        self.assertEqual(browser.getControl(name="form.widgets.title").value, "Nightly")

    def test_bad_id_shows_inline_error(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(
            browser,
            id="9 lives",
            title="Nine",
            schedule="0 3 * * *",
            runner=["test.record"],
        )
        browser.getControl("Save").click()
        field = re.search(
            r'id="formfield-form-widgets-id".*?</div>\s*</div>', browser.contents, re.S
        ).group(0)
        self.assertIn("must start with a letter", field)

    def test_existing_id_is_refused(self):
        self.add("nightly", title="Original")
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(
            browser,
            id="nightly",
            title="Copy",
            schedule="0 4 * * *",
            runner=["test.record"],
        )
        browser.getControl("Save").click()
        self.assertIn("a job with this id already exists", browser.contents)
        self.assertEqual(self.job("nightly")["title"], "Original")

    def test_preview_lists_next_five_runs_and_dst_warnings(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(browser, schedule="30 2 * * *", timezone=["Europe/Berlin"])
        browser.getControl("Preview schedule").click()
        preview = re.search(r"crontab-preview.*?</ol>", browser.contents, re.S).group(0)
        self.assertEqual(preview.count("<li"), 5)
        self.assertEqual(preview.count("02:30 CE"), 5)
        warnings = re.search(
            r"crontab-dst-warnings.*?</ul>", browser.contents, re.S
        ).group(0)
        self.assertIn(
            "02:30 does not exist, so the job runs at 03:00 instead", warnings
        )
        self.assertIn(
            "happens twice: the job runs at 02:30 only the first time", warnings
        )
        self.assertNotIn("Required input is missing", browser.contents)

    def test_preview_of_a_bad_schedule_shows_the_error(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(browser, schedule="*/5 * * *")
        browser.getControl("Preview schedule").click()
        self.assertNotIn("crontab-preview", browser.contents)
        field = re.search(
            r'id="formfield-form-widgets-schedule".*?</div>\s*</div>',
            browser.contents,
            re.S,
        ).group(0)
        self.assertIn("has 4 fields; cron expressions have 5", field)

    def test_edit_form_changes_schedule_and_arguments(self):
        self.add("pack", runner="collective.crontab.pack", arguments={"days": "7"})
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getLink(url="@@crontab-edit?job=pack").click()
        self.assertIn("crontab-preview", browser.contents)
        self.assertEqual(
            browser.getControl(name="form.widgets.arguments.key.0").value, "days"
        )
        self.fill(browser, schedule="0 4 * * 0")
        browser.getControl(name="form.widgets.arguments.0").value = "14"
        browser.getControl("Save").click()
        job = self.job("pack")
        self.assertEqual(job["schedule"], "0 4 * * 0")
        self.assertEqual(job["arguments"], {"days": "14"})
        self.assertEqual(job["owner"], "siteadmin")

    def test_arguments_are_added_as_key_value_rows(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(
            browser,
            id="call",
            title="Call",
            schedule="0 3 * * *",
            runner=["collective.crontab.call-view"],
        )
        browser.getControl(name="form.widgets.arguments.buttons.add").click()
        browser.getControl(name="form.widgets.arguments.key.0").value = "path"
        browser.getControl(name="form.widgets.arguments.0").value = "@@ok"
        browser.getControl("Save").click()
        self.assertEqual(self.job("call")["arguments"], {"path": "@@ok"})

    def test_manager_may_choose_another_owner(self):
        browser = self.browser(SITE_OWNER_NAME)
        browser.open(self.portal_url + "/@@crontab-add")
        self.assertEqual(
            browser.getControl(name="form.widgets.owner").value, "/" + SITE_OWNER_NAME
        )
        self.fill(
            browser,
            id="as-member",
            title="As member",
            schedule="0 3 * * *",
            runner=["test.record"],
            owner="member",
        )
        browser.getControl("Save").click()
        self.assertEqual(self.job("as-member")["owner"], "member")

    def test_manager_naming_unknown_owner_gets_inline_error(self):
        browser = self.browser(SITE_OWNER_NAME)
        browser.open(self.portal_url + "/@@crontab-add")
        self.fill(
            browser,
            id="ghost",
            title="Ghost",
            schedule="0 3 * * *",
            runner=["test.record"],
            owner="nobody-here",
        )
        browser.getControl("Save").click()
        self.assertIn("user 'nobody-here' does not exist", browser.contents)
        self.assertIsNone(self.job("ghost"))


class TestActions(PanelTestCase):
    def test_disable_then_enable(self):
        self.add("nightly", title="Nightly")
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getForm(action="@@crontab-toggle", index=0).submit()
        self.assertIn("Disabled Nightly.", browser.contents)
        self.assertFalse(self.job("nightly")["enabled"])
        self.assertIn("crontab-disabled", self.row(browser, "nightly"))
        browser.getForm(action="@@crontab-toggle", index=0).submit()
        self.assertIn("Enabled Nightly.", browser.contents)
        self.assertTrue(self.job("nightly")["enabled"])

    def test_run_now_queues_for_next_tick_when_clock_is_healthy(self):
        self.add("nightly", title="Nightly")
        self.tick()
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getForm(action="@@crontab-run", index=0).submit()
        self.assertIn("Queued Nightly: it runs at the next tick", browser.contents)
        self.assertTrue(self.job("nightly")["queued"])
        self.assertEqual(traces(self.portal), ())
        self.tick()
        self.assertEqual(traces(self.portal), (("nightly", "ran"),))

    def test_run_now_runs_immediately_when_no_tick_arrived_recently(self):
        self.add("nightly", title="Nightly")
        self.tick(now=utcnow() - timedelta(minutes=10))
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getForm(action="@@crontab-run", index=0).submit()
        self.assertIn(
            "so Nightly ran immediately, in this request: Success. recorded nightly",
            browser.contents,
        )
        self.portal._p_jar.sync()
        self.assertEqual(traces(self.portal), (("nightly", "ran"),))
        self.assertEqual(self.row(browser, "nightly").count("crontab-last-status"), 1)

    def test_run_now_needs_post(self):
        from zExceptions import Forbidden

        self.add("nightly", title="Nightly")
        browser = self.browser()
        with self.assertRaises(Forbidden):
            browser.open(self.portal_url + "/@@crontab-run?job=nightly")
        self.assertFalse(self.job("nightly")["queued"])

    def test_delete_asks_then_deletes_job_and_history(self):
        self.add("nightly", title="Nightly")
        setSite(self.portal)
        api.run_now("nightly")
        self.tick()
        browser = self.browser()
        browser.open(self.panel_url)
        browser.getLink(url="@@crontab-delete?job=nightly").click()
        self.assertIn(
            "Delete the job Nightly and all of its history?", browser.contents
        )
        self.assertIsNotNone(self.job("nightly"))
        browser.getControl("Delete job").click()
        self.assertIn("Deleted Nightly.", browser.contents)
        self.assertIsNone(self.job("nightly"))
        self.assertIsNone(get_crontab(self.portal).state("nightly"))

    def test_cancel_delete_keeps_the_job(self):
        self.add("nightly", title="Nightly")
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-delete?job=nightly")
        browser.getControl("Cancel").click()
        self.assertIn("Nothing was deleted.", browser.contents)
        self.assertIsNotNone(self.job("nightly"))


class TestSecurity(PanelTestCase):
    PAGES = (
        "@@crontab-controlpanel",
        "@@crontab-add",
        "@@crontab-edit?job=nightly",
        "@@crontab-history?job=nightly",
        "@@crontab-delete?job=nightly",
        "@@crontab-clear-history?job=nightly",
    )

    def setUp(self):
        super().setUp()
        self.add("nightly", title="Nightly")

    def test_site_administrator_sees_every_page(self):
        browser = self.browser("siteadmin")
        for page in self.PAGES:
            browser.open(f"{self.portal_url}/{page}")
            self.assertIn("crontab-health", browser.contents, page)

    def refused(self, user, url, data=None):
        """Open or post ``url`` as ``user`` with Plone's error handling on:
        True if the answer is a refusal (401/403 or the login form)."""
        browser = self.browser(user)
        browser.handleErrors = True
        browser.raiseHttpErrors = False
        if data is None:
            browser.open(url)
        else:
            browser.post(url, data)
        status = int(browser.headers["status"].split()[0])
        refused = status in (401, 403) or any(
            page in browser.url
            for page in ("require_login", "/login", "insufficient-privileges")
        )
        return refused and "crontab-health" not in browser.contents

    def test_editor_member_and_anonymous_are_refused(self):
        for user in ("editor", "member", None):
            for page in (*self.PAGES, "@@crontab-run?job=nightly"):
                url = f"{self.portal_url}/{page}"
                self.assertTrue(self.refused(user, url), f"{user} may open {page}")

    def test_editor_cannot_post_actions(self):
        for view in ("crontab-run", "crontab-toggle", "crontab-delete"):
            url = f"{self.portal_url}/@@{view}"
            self.assertTrue(
                self.refused("editor", url, "job=nightly&form.buttons.confirm=1")
            )
        self.assertTrue(self.job("nightly")["enabled"])
        self.assertFalse(self.job("nightly")["queued"])

    def test_posts_without_csrf_token_are_refused_and_change_nothing(self):
        from zExceptions import Forbidden

        browser = self.browser("siteadmin")
        for view in (
            "crontab-run",
            "crontab-toggle",
            "crontab-delete",
            "crontab-clear-history",
        ):
            with self.assertRaises(Forbidden, msg=view):
                browser.post(
                    f"{self.portal_url}/@@{view}",
                    "job=nightly&form.buttons.confirm=1",
                )
        job = self.job("nightly")
        self.assertTrue(job["enabled"])
        self.assertFalse(job["queued"])

    def test_form_posts_without_csrf_token_are_refused_and_change_nothing(self):
        from zExceptions import Forbidden

        browser = self.browser("siteadmin")
        data = (
            "form.widgets.title=Changed&form.widgets.runner:list=test.record"
            "&form.widgets.schedule=0+5+*+*+*&form.widgets.catch_up:list=skip"
            "&form.widgets.max_runtime=60&form.widgets.history=10"
            "&form.buttons.save=Save"
        )
        with self.assertRaises(Forbidden):
            browser.post(self.portal_url + "/@@crontab-edit?job=nightly", data)
        self.assertEqual(self.job("nightly")["title"], "Nightly")
        with self.assertRaises(Forbidden):
            browser.post(
                self.portal_url + "/@@crontab-add", data + "&form.widgets.id=sneaky"
            )
        self.assertIsNone(self.job("sneaky"))

    def test_form_posts_with_csrf_token_work(self):
        browser = self.browser("siteadmin")
        browser.open(self.portal_url + "/@@crontab-edit?job=nightly")
        self.assertIn('name="_authenticator"', browser.contents)
        browser.getControl(name="form.widgets.title").value = "Changed"
        browser.getControl("Save").click()
        self.assertEqual(self.job("nightly")["title"], "Changed")


class TestListReadsNoHistory(PanelTestCase):
    def test_rendering_the_list_leaves_every_history_unloaded(self):
        setSite(self.portal)
        for index in range(3):
            api.add_job(
                f"job-{index}",
                title=f"Job {index}",
                runner="test.record",
                schedule="0 3 * * *",
                history=500,
            )
            for _run in range(40):
                api.run_now(f"job-{index}")
                api.tick()
        transaction.commit()
        self.portal._p_jar.cacheMinimize()
        states = get_crontab(self.portal).states
        histories = [states[f"job-{index}"].runs for index in range(3)]
        self.assertTrue(all(runs._p_changed is None for runs in histories))
        view = self.portal.restrictedTraverse("@@crontab-controlpanel")
        html = view()
        self.assertEqual(html.count('<tr class="crontab-job'), 3)
        self.assertEqual(html.count('<span class="bg-success"'), 60)
        self.assertTrue(
            all(runs._p_changed is None for runs in histories),
            "the job list loaded a run history",
        )
