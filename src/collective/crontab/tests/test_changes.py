"""Who changed what: the change log of each job, through every way in."""

from collective.crontab import api
from collective.crontab.jobs import FIELDS
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.state import MAX_CHANGES
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.tests.test_controlpanel import PanelTestCase
from collective.crontab.tests.test_restapi import RestTestCase
from collective.crontab.tests.test_shipped import SHIPPED
from collective.crontab.tests.test_shipped import unregister_runner
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from zExceptions import Forbidden
from zope.component.hooks import setSite

import transaction
import unittest


def fields(entry):
    """{field: (old, new)} of a change log entry."""
    return {item["field"]: (item["old"], item["new"]) for item in entry["fields"]}


class TestAPI(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        api.add_job("nightly", title="Nightly", runner="test.record", schedule="@daily")

    def test_adding_logs_every_field_new(self):
        (entry,) = api.changes("nightly")
        self.assertEqual((entry["who"], entry["via"]), (TEST_USER_ID, "api"))
        self.assertEqual(fields(entry)["schedule"], (None, "@daily"))
        self.assertEqual(fields(entry)["owner"], (None, TEST_USER_ID))
        self.assertEqual(len(entry["fields"]), len(FIELDS))

    def test_an_edit_logs_the_changed_fields_old_and_new_newest_first(self):
        api.update_job("nightly", schedule="0 4 * * *", enabled=False, via="upgrade")
        entry = api.changes("nightly")[0]
        self.assertEqual(entry["via"], "upgrade")
        self.assertEqual(
            fields(entry),
            {"schedule": ("@daily", "0 4 * * *"), "enabled": (True, False)},
        )
        self.assertLessEqual(entry["when"], utcnow())

    def test_an_edit_that_changes_nothing_logs_nothing(self):
        api.update_job("nightly", title="Nightly")
        self.assertEqual(len(api.changes("nightly")), 1)

    def test_the_log_keeps_the_last_changes(self):
        for minute in range(MAX_CHANGES + 5):
            api.update_job("nightly", schedule=f"{minute} 3 * * *")
        entries = api.changes("nightly")
        self.assertEqual(len(entries), MAX_CHANGES)
        self.assertEqual(
            fields(entries[0])["schedule"], (f"{MAX_CHANGES + 3} 3 * * *", "54 3 * * *")
        )
        self.assertEqual(
            [fields(entry)["schedule"][1] for entry in api.changes("nightly", 2, 1)],
            ["53 3 * * *", "52 3 * * *"],
        )

    def test_long_values_are_kept_shortened(self):
        api.update_job("nightly", arguments={"text": "x" * 4000})
        old, new = fields(api.changes("nightly")[0])["arguments"]
        self.assertEqual(old, {})
        self.assertLessEqual(len(new), 2000)
        self.assertIn("truncated", new)

    def test_an_unknown_via_is_refused(self):
        with self.assertRaises(ValueError):
            api.update_job("nightly", enabled=False, via="telepathy")

    def test_deleting_removes_the_log_with_the_state(self):
        api.delete_job("nightly")
        self.assertIsNone(get_crontab(self.portal).state("nightly"))
        with self.assertRaises(KeyError):
            api.changes("nightly")

    def test_recording_a_run_does_not_rewrite_the_log(self):
        state = get_crontab(self.portal).state("nightly")
        transaction.savepoint()
        self.assertIsNotNone(state.changes._p_oid)  # an object of its own
        now = utcnow()
        state.append(
            100,
            slot=now,
            started=now,
            finished=now,
            duration=0.0,
            status="success",
            message="",
            traceback="",
            client="test",
        )
        self.assertTrue(state._p_changed)
        self.assertFalse(state.changes._p_changed)


class TestPanel(PanelTestCase):
    def test_form_edit_and_toggle_are_logged_as_panel(self):
        self.add("nightly", title="Nightly")
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-edit?job=nightly")
        browser.getControl(name="form.widgets.schedule").value = "0 4 * * *"
        browser.getControl("Save").click()
        browser.getForm(action="@@crontab-toggle", index=0).submit()
        setSite(self.portal)
        toggled, edited, added = api.changes("nightly")
        self.assertEqual((toggled["who"], toggled["via"]), ("siteadmin", "panel"))
        self.assertEqual(fields(toggled), {"enabled": (True, False)})
        self.assertEqual(edited["via"], "panel")
        self.assertEqual(fields(edited)["schedule"], ("0 3 * * *", "0 4 * * *"))
        self.assertEqual(added["via"], "api")

    def test_adding_in_the_panel_is_logged(self):
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        browser.getControl(name="form.widgets.id").value = "weekly"
        browser.getControl(name="form.widgets.title").value = "Weekly"
        browser.getControl(name="form.widgets.runner:list").value = ["test.record"]
        browser.getControl(name="form.widgets.schedule").value = "@weekly"
        browser.getControl("Save").click()
        self.job("weekly")
        (entry,) = api.changes("weekly")
        self.assertEqual((entry["who"], entry["via"]), ("siteadmin", "panel"))

    def test_changes_page_lists_who_via_and_old_new_escaped(self):
        self.add("nightly", title="Nightly")
        setSite(self.portal)
        api.update_job("nightly", title="<b>Bold</b>", via="cli")
        transaction.commit()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-history?job=nightly")
        browser.getLink("Changes").click()
        self.assertIn("crontab-changes", browser.contents)
        self.assertIn("crontab-change-cli", browser.contents)
        self.assertIn("command line", browser.contents)
        self.assertIn('<del class="text-break">Nightly</del>', browser.contents)
        self.assertIn("&lt;b&gt;Bold&lt;/b&gt;", browser.contents)
        self.assertNotIn("<b>Bold</b>", browser.contents)
        browser.getLink("History").click()
        self.assertIn("crontab-filter", browser.contents)

    def test_changes_page_is_batched(self):
        self.add("nightly", title="Nightly")
        setSite(self.portal)
        for minute in range(1, 26):
            api.update_job("nightly", schedule=f"{minute} 3 * * *")
        transaction.commit()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-changes?job=nightly")
        self.assertEqual(browser.contents.count('class="crontab-change '), 20)
        browser.open(self.portal_url + "/@@crontab-changes?job=nightly&b_start=20")
        self.assertEqual(browser.contents.count('class="crontab-change '), 6)


class TestShippedInThePanel(PanelTestCase):
    def setUp(self):
        super().setUp()
        setSite(self.portal)
        self.portal.portal_setup.runAllImportStepsFromProfile(f"profile-{SHIPPED}")
        transaction.commit()

    def test_customized_job_is_marked_and_shows_the_shipped_values(self):
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertNotIn("crontab-customized", self.row(browser, "nightly-report"))
        browser.open(self.portal_url + "/@@crontab-edit?job=nightly-report")
        browser.getControl(name="form.widgets.schedule").value = "0 5 * * *"
        browser.getControl("Save").click()
        self.assertIn("crontab-customized", self.row(browser, "nightly-report"))
        browser.getLink("Customized").click()
        self.assertIn(SHIPPED, browser.contents)
        self.assertIn("crontab-customized-schedule", browser.contents)
        self.assertIn('<code class="text-break">30 2 * * *</code>', browser.contents)
        self.assertIn('<code class="text-break">0 5 * * *</code>', browser.contents)

    def test_revert_to_shipped(self):
        setSite(self.portal)
        api.update_job("nightly-report", schedule="0 5 * * *")
        transaction.commit()
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-changes?job=nightly-report")
        browser.getControl("Revert to shipped").click()
        self.assertIn(
            "Reverted Nightly report to the shipped version.", browser.contents
        )
        self.assertEqual(self.job("nightly-report")["schedule"], "30 2 * * *")
        self.assertEqual(api.changes("nightly-report")[0]["via"], "panel")

    def test_revert_needs_a_post_with_the_token(self):
        setSite(self.portal)
        api.update_job("nightly-report", schedule="0 5 * * *")
        transaction.commit()
        browser = self.browser()
        for method, url, body in (
            (browser.open, "/@@crontab-revert?job=nightly-report", None),
            (browser.post, "/@@crontab-revert", "job=nightly-report"),
            (browser.post, "/@@crontab-revert", "job=nightly-report&_authenticator=x"),
        ):
            with self.assertRaises(Forbidden, msg=(url, body)):
                method(self.portal_url + url, *(() if body is None else (body,)))
        self.assertEqual(self.job("nightly-report")["schedule"], "0 5 * * *")

    def test_editor_cannot_revert(self):
        setSite(self.portal)
        api.update_job("nightly-report", schedule="0 5 * * *")
        transaction.commit()
        browser = self.browser("editor")
        browser.handleErrors = True
        browser.raiseHttpErrors = False
        browser.open(self.portal_url + "/@@crontab-changes?job=nightly-report")
        self.assertIn("insufficient-privileges", browser.url)
        browser.post(self.portal_url + "/@@crontab-revert", "job=nightly-report")
        self.assertIn("insufficient-privileges", browser.url)
        self.assertEqual(self.job("nightly-report")["schedule"], "0 5 * * *")

    def test_orphaned_job_is_marked_and_can_be_deleted(self):
        unregister_runner(self)
        browser = self.browser()
        browser.open(self.panel_url)
        self.assertIn("crontab-orphaned", self.row(browser, "nightly-report"))
        browser.getLink("Orphaned").click()
        self.assertIn("crontab-orphaned-note", browser.contents)
        browser.getLink("Delete the job").click()
        browser.getControl("Delete job").click()
        self.assertIsNone(self.job("nightly-report"))


class TestREST(RestTestCase):
    def test_post_and_patch_are_logged_as_rest(self):
        response = self.siteadmin.post(
            "@crontab",
            json={
                "id": "weekly",
                "title": "W",
                "runner": "test.record",
                "schedule": "@weekly",
            },
        )
        self.assertEqual(response.status_code, 201, response.text)
        response = self.siteadmin.patch("@crontab/weekly", json={"enabled": False})
        self.assertEqual(response.status_code, 204, response.text)
        data = self.manager.get("@crontab/weekly").json()
        changes = data["changes"]
        self.assertEqual(changes["items_total"], 2)
        patched, posted = changes["items"]
        self.assertEqual((patched["who"], patched["via"]), ("siteadmin", "rest"))
        self.assertEqual(
            patched["fields"], [{"field": "enabled", "old": True, "new": False}]
        )
        self.assertEqual(posted["via"], "rest")

    def test_changes_are_batched(self):
        self.add("hourly")
        for minute in range(1, 5):
            api.update_job("hourly", schedule=f"{minute} * * * *")
        transaction.commit()
        data = self.manager.get("@crontab/hourly?b_size=2&b_start=2").json()
        changes = data["changes"]
        self.assertEqual(changes["items_total"], 5)
        self.assertEqual(
            [item["fields"][0]["new"] for item in changes["items"]],
            ["2 * * * *", "1 * * * *"],
        )
        self.assertIn("next", changes["batching"])

    def test_a_body_cannot_say_via(self):
        self.add("hourly")
        response = self.siteadmin.patch(
            "@crontab/hourly", json={"enabled": False, "via": "panel"}
        )
        self.assertEqual(self.errors(response)[0]["field"], "via")

    def test_revert_over_rest(self):
        setSite(self.portal)
        self.portal.portal_setup.runAllImportStepsFromProfile(f"profile-{SHIPPED}")
        api.update_job("nightly-report", schedule="0 5 * * *")
        transaction.commit()
        data = self.manager.get("@crontab/nightly-report").json()
        self.assertEqual(data["origin"], SHIPPED)
        self.assertIn("schedule", data["customized"])
        response = self.manager.post("@crontab/nightly-report/revert", json={})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["schedule"], "30 2 * * *")
        self.fresh()
        self.add("local")
        response = self.manager.post("@crontab/local/revert", json={})
        self.assertEqual(self.errors(response)[0]["field"], "origin")
