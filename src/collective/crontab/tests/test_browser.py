"""The control panel in a real browser: Debian's chromium, headless, driven
by Playwright, against a real WSGI server started by the test layer.

Screenshots go to ``test-output/`` at the root of the checkout.
"""

from collective.crontab import api
from collective.crontab.testing import DEMO_HTTP_TESTING
from contextlib import contextmanager
from pathlib import Path
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from zope.component.hooks import setSite

import os
import transaction
import unittest


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).parents[4]
OUTPUT = ROOT / "test-output"
#: axe-core from npm, installed by `make install` (package-lock.json).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "secret-password-1"
UNDER_CI = os.environ.get("CI", "").lower() == "true"


def chromium_missing():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not AXE.exists():
        return f"{AXE} is missing: install it with 'make install' (npm ci)"
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"{CHROMIUM} is missing: install it with "
            "'sudo apt-get install -y chromium chromium-driver' (or 'make test')"
        )
    return None


def serious_violations(page):
    """axe-core's serious and critical violations in the panel (Plone's
    ``#content``; the toolbar, header and footer around it are Plone's),
    one line per element."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "axe.run({include: ['#content']}, {resultTypes: ['violations']})"
        ".then(result => result.violations)"
    )
    return [
        f"{item['id']} ({item['impact']}) at {node['target']}: "
        + node["failureSummary"].replace("\n", " ")
        for item in violations
        if item["impact"] in ("serious", "critical")
        for node in item["nodes"]
    ]


class TestPanelInChromium(unittest.TestCase):
    layer = DEMO_HTTP_TESTING

    def setUp(self):
        missing = chromium_missing()
        if missing:
            if UNDER_CI:
                self.fail("CI=true: the browser test must run, but " + missing)
            self.skipTest(missing)
        self.portal = self.layer["portal"]
        self.url = f"http://{self.layer['host']}:{self.layer['port']}/plone"
        self.portal.acl_users.userFolderAddUser(
            "siteadmin", PASSWORD, ["Site Administrator"], []
        )
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.seed_jobs()
        transaction.commit()
        OUTPUT.mkdir(exist_ok=True)

    def seed_jobs(self):
        """Some jobs with a history, so the screenshots show a lived-in panel."""
        setSite(self.portal)
        self.portal.portal_registry["plone.portal_timezone"] = "Europe/Berlin"
        api.add_job(
            "count-content",
            title="Count content",
            runner="collective.crontab.content-count",
            schedule="*/10 * * * *",
        )
        api.add_job(
            "nightly-report",
            title="Nightly report <script>alert(1)</script>",
            runner="test.warn",
            schedule="30 2 * * *",
            timezone="Europe/Berlin",
        )
        api.add_job(
            "flaky-import",
            title="Import partner feed",
            runner="test.fail",
            schedule="15 * * * 1-5",
        )
        api.add_job(
            "pack",
            title="Pack the database",
            runner="collective.crontab.pack",
            schedule="0 3 * * 0",
            arguments={"days": "7"},
            enabled=False,
        )
        runners = {
            "count-content": ["collective.crontab.content-count"],
            "nightly-report": ["test.record", "test.record", "test.warn"],
            "flaky-import": ["test.record", "test.fail", "test.record", "test.record"],
        }
        for job_id, cycle in runners.items():
            for index in range(14):
                api.update_job(job_id, runner=cycle[index % len(cycle)])
                api.run_now(job_id)
                api.tick()

    @contextmanager
    def chromium(self):
        """A chromium page logged in as the Site Administrator; on a failure
        its screenshot is test-output/failure.png."""
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(self.url + "/login")
                page.fill("#__ac_name", "siteadmin")
                page.fill("#__ac_password", PASSWORD)
                page.click(
                    "#login-form button[type=submit], #login-form input[type=submit]"
                )
                page.wait_for_load_state()
                yield page
            except Exception:
                page.screenshot(path=str(OUTPUT / "failure.png"), full_page=True)
                raise
            finally:
                browser.close()

    def test_add_run_tick_and_read_history(self):
        from playwright.sync_api import expect

        with self.chromium() as page:
            page.goto(self.url + "/@@overview-controlpanel")
            page.locator("#content a[href$='@@crontab-controlpanel']:visible").click()
            expect(page.locator("h1")).to_have_text("Cron jobs")
            expect(page.locator(".crontab-health .alert-success")).to_contain_text(
                "Last tick"
            )

            page.click("a.crontab-add")
            page.fill("#form-widgets-id", "hello")
            page.fill("#form-widgets-title", "Say hello")
            page.select_option("#form-widgets-runner", "test.record")
            page.fill("#form-widgets-schedule", "61 * * * *")
            page.click("#form-buttons-save")
            error = page.locator("#formfield-form-widgets-schedule .invalid-feedback")
            expect(error).to_contain_text("minute field '61' is out of range")
            page.screenshot(path=str(OUTPUT / "crontab-add-error.png"), full_page=True)
            page.fill("#form-widgets-schedule", "*/5 * * * *")
            page.click("#form-buttons-save")
            expect(page.locator(".portalMessage")).to_contain_text("Saved Say hello")
            row = page.locator("#job-hello")
            expect(row).to_contain_text("Every 5 minutes")

            page.goto(self.url + "/@@crontab-tick")
            page.goto(self.url + "/@@crontab-controlpanel")
            expect(page.locator(".crontab-health .alert-success")).to_contain_text(
                "Last tick"
            )
            page.locator("#job-hello button[name=run]").click()
            expect(page.locator(".portalMessage")).to_contain_text("Queued Say hello")
            expect(page.locator("#job-hello")).to_contain_text("Queued")

            page.goto(self.url + "/@@crontab-tick")
            page.goto(self.url + "/@@crontab-controlpanel")
            expect(page.locator("#job-hello .crontab-last-status")).to_have_text(
                "Success"
            )
            expect(page.locator("#job-nightly-report")).to_contain_text(
                "<script>alert(1)</script>"
            )
            page.screenshot(path=str(OUTPUT / "crontab-list.png"), full_page=True)

            page.locator("#job-flaky-import a[title=History]").click()
            expect(page.locator("h1")).to_contain_text("Import partner feed")
            page.locator(".crontab-run details summary").first.click()
            expect(page.locator(".crontab-run details pre").first).to_contain_text(
                "RuntimeError"
            )
            page.screenshot(
                path=str(OUTPUT / "crontab-history-failures.png"), full_page=True
            )

            page.goto(self.url + "/@@crontab-controlpanel")
            page.locator("#job-hello a[title=History]").click()
            runs = page.locator(".crontab-run")
            expect(runs).to_have_count(1)
            expect(runs.first).to_contain_text("recorded hello")
            page.screenshot(path=str(OUTPUT / "crontab-history.png"), full_page=True)

            page.goto(self.url + "/@@crontab-edit?job=nightly-report")
            expect(page.locator(".crontab-dst-warnings")).to_contain_text(
                "02:30 does not exist"
            )
            page.screenshot(path=str(OUTPUT / "crontab-edit.png"), full_page=True)

            page.goto(self.url + "/@@crontab-controlpanel")
            page.locator("#job-hello a[title=Delete]").click()
            expect(page.locator(".crontab-question")).to_contain_text(
                "Delete the job Say hello"
            )
            page.screenshot(path=str(OUTPUT / "crontab-delete.png"), full_page=True)
            page.click("button[name='form.buttons.confirm']")
            expect(page.locator(".portalMessage")).to_contain_text("Deleted Say hello.")
            expect(page.locator("#job-hello")).to_have_count(0)
        for name in (
            "crontab-list",
            "crontab-add-error",
            "crontab-history",
            "crontab-history-failures",
            "crontab-edit",
            "crontab-delete",
        ):
            self.assertGreater((OUTPUT / (f"{name}.png")).stat().st_size, 10000, name)

    def test_panel_pages_have_no_serious_accessibility_violations(self):
        from playwright.sync_api import expect

        api.update_job(
            "flaky-import",
            notify=["ops@example.org", "oncall@example.org"],
            notify_recovery=True,
            ping_url="https://hc-ping.com/2f9c1e4e-0000-4000-8000-000000000000",
        )
        transaction.commit()
        found = {}
        with self.chromium() as page:
            page.goto(self.url + "/@@crontab-controlpanel")
            row = page.locator("#job-count-content")
            for role, name in (
                ("link", "Edit Count content"),
                ("link", "History of Count content"),
                ("link", "Delete Count content"),
                ("button", "Run now"),
                ("button", "Disable"),
            ):
                control = row.get_by_role(role, name=name, exact=True)
                expect(control).to_have_count(1)
                if role == "button":
                    expect(control).to_have_accessible_description("Count content")
            for name, path in (
                ("list", "/@@crontab-controlpanel"),
                ("add", "/@@crontab-add"),
                ("edit", "/@@crontab-edit?job=flaky-import"),
                ("history", "/@@crontab-history?job=flaky-import"),
                ("delete", "/@@crontab-delete?job=flaky-import"),
            ):
                page.goto(self.url + path)
                found[name] = serious_violations(page)
                if name == "edit":
                    page.screenshot(
                        path=str(OUTPUT / "crontab-edit-notifications.png"),
                        full_page=True,
                    )
            page.goto(self.url + "/@@crontab-add")
            page.fill("#form-widgets-id", "typo")
            page.fill("#form-widgets-title", "Typo")
            page.select_option("#form-widgets-runner", "test.record")
            page.fill("#form-widgets-schedule", "61 * * * *")
            page.fill("#form-widgets-notify", "ops at example")
            page.click("#form-buttons-save")
            found["add with errors"] = serious_violations(page)
        screenshot = OUTPUT / "crontab-edit-notifications.png"
        self.assertGreater(screenshot.stat().st_size, 10000)
        report = [f"{name}: {line}" for name, lines in found.items() for line in lines]
        self.assertEqual(report, [], "\n".join(report))


class TestShippedJobInChromium(TestPanelInChromium):
    """A job an add-on ships, changed here, re-imported, then reverted: the
    change log and the customized marks (screenshots)."""

    def sync(self):
        """See what the server committed, in the test's own transaction."""
        from zope.globalrequest import getRequest

        transaction.begin()
        getRequest().other.pop("_plone_registry_cache", None)
        setSite(self.portal)

    def import_shipped(self):
        self.sync()
        self.portal.portal_setup.runAllImportStepsFromProfile(
            "profile-collective.crontab.tests:shipped-job"
        )
        transaction.commit()

    test_add_run_tick_and_read_history = None  # they run in the base class
    test_panel_pages_have_no_serious_accessibility_violations = None

    def test_change_log_and_customized_shipped_job(self):
        from playwright.sync_api import expect
        from playwright.sync_api import sync_playwright

        import requests

        api.delete_job("nightly-report")  # the seeded one: the profile ships it
        transaction.commit()
        self.import_shipped()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(self.url + "/login")
                page.fill("#__ac_name", "siteadmin")
                page.fill("#__ac_password", PASSWORD)
                page.click(
                    "#login-form button[type=submit], #login-form input[type=submit]"
                )
                page.wait_for_load_state()

                page.goto(self.url + "/@@crontab-controlpanel")
                page.locator("#job-nightly-report button[name=toggle]").click()
                expect(page.locator(".portalMessage")).to_contain_text("Disabled")
                page.goto(self.url + "/@@crontab-edit?job=nightly-report")
                page.fill("#form-widgets-schedule", "0 4 * * *")
                page.click("#form-buttons-save")
                expect(page.locator(".portalMessage")).to_contain_text("Saved")

                self.import_shipped()  # an upgrade of the add-on re-imports it
                response = requests.patch(
                    self.url + "/@crontab/nightly-report",
                    json={"notify": ["ops@example.org"]},
                    auth=("siteadmin", PASSWORD),
                    headers={"Accept": "application/json"},
                    timeout=60,
                )
                self.assertEqual(response.status_code, 204, response.text)

                page.goto(self.url + "/@@crontab-controlpanel")
                row = page.locator("#job-nightly-report")
                expect(row.locator("code.crontab-schedule")).to_have_text("0 4 * * *")
                expect(row.locator("a.crontab-customized")).to_have_text("Customized")
                row.screenshot(path=str(OUTPUT / "crontab-list-customized.png"))
                row.locator("a.crontab-customized").click()
                expect(page.locator("h1")).to_contain_text("Changes of Nightly report")
                schedule = page.locator(".crontab-customized-schedule")
                expect(schedule).to_contain_text("0 4 * * *")
                expect(schedule).to_contain_text("30 2 * * *")
                entries = page.locator(".crontab-change")
                expect(entries).to_have_count(5)
                expect(entries.nth(0)).to_contain_text("REST API")
                expect(entries.nth(1)).to_contain_text("kept local: schedule")
                expect(entries.nth(2)).to_contain_text("control panel")
                page.screenshot(
                    path=str(OUTPUT / "crontab-shipped-customized.png"), full_page=True
                )

                page.click("button.crontab-revert")
                expect(page.locator(".portalMessage")).to_contain_text(
                    "to the shipped version"
                )
                page.goto(self.url + "/@@crontab-changes?job=nightly-report")
                expect(page.locator(".crontab-change").first).to_contain_text(
                    "reverted to collective.crontab.tests:shipped-job"
                )
                expect(page.locator(".crontab-customized-schedule")).to_have_count(0)
                page.screenshot(
                    path=str(OUTPUT / "crontab-changes.png"), full_page=True
                )
            except Exception:
                page.screenshot(path=str(OUTPUT / "failure.png"), full_page=True)
                raise
            finally:
                browser.close()
        for name in (
            "crontab-list-customized",
            "crontab-shipped-customized",
            "crontab-changes",
        ):
            self.assertGreater((OUTPUT / (f"{name}.png")).stat().st_size, 5000, name)
