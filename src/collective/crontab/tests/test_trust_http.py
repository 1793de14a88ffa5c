"""Over real HTTP: REST writes need JSON and, logged in by cookie, a CSRF
token (F7); bad query input is 400 (F8); a Manager enabling a Site
Administrator's job leaves it running as the Site Administrator (F1); the
configuration registry and @registry cannot change a job's records."""

from collective.crontab import api
from collective.crontab.jobs import read_job
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from collective.crontab.tests.test_restapi import JOB
from collective.crontab.tests.test_restapi import RestTestCase
from plone.app.testing import login
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_NAME
from plone.app.testing import TEST_USER_PASSWORD
from plone.registry.interfaces import IRegistry
from transaction.interfaces import DoomedTransaction
from zExceptions import Forbidden
from zope.component import getUtility

import re
import requests
import transaction


class CookieTestCase(RestTestCase):
    def cookie_session(self, user_id, password):
        """A browser's session: logged in by the login form's __ac cookie."""
        session = requests.Session()
        self.addCleanup(session.close)
        response = session.post(
            f"{self.url}/login",
            data={
                "__ac_name": user_id,
                "__ac_password": password,
                "buttons.login": "Log in",
                "came_from": "",
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("__ac", session.cookies)
        return session

    def siteadmin_job(self, job_id, **fields):
        """Add, as the Site Administrator over REST, a call-view job calling
        a Manager-only page; return its owner."""
        job = {
            "id": job_id,
            "title": job_id.title(),
            "runner": "collective.crontab.call-view",
            "schedule": "* * * * *",
            "arguments": {"path": "@@crontab-test-manager-only"},
        }
        response = self.siteadmin.post("@crontab", json=dict(job, **fields))
        self.assertEqual(response.status_code, 201, response.text)
        return response.json()["owner"]

    def token(self, session):
        response = session.get(f"{self.url}/@@authenticator/token", timeout=60)
        self.assertEqual(response.status_code, 200)
        return response.text.strip()


class TestRestWrites(CookieTestCase):
    def test_a_write_that_is_not_json_is_415(self):
        self.add("nightly")
        for method, path in (
            ("post", "@crontab"),
            ("patch", "@crontab/nightly"),
            ("delete", "@crontab/nightly"),
            ("post", "@crontab/nightly/run"),
        ):
            response = self.manager.request(
                method,
                path,
                data='{"title": "x", "runner": "test.record", "schedule": "@daily"}',
                headers={"Content-Type": "text/plain"},
            )
            self.assertEqual(response.status_code, 415, (method, path))
            self.assertIn(
                "need Content-Type: application/json",
                response.json()["error"]["message"],
            )
            self.fresh()
            self.assertEqual(read_job("nightly").title, "Nightly")
            self.assertFalse(api.get_job("nightly")["queued"])

    def test_a_cookie_login_without_the_token_is_403(self):
        browser = self.cookie_session(TEST_USER_NAME, TEST_USER_PASSWORD)
        response = browser.post(
            f"{self.url}/@crontab",
            json=dict(JOB, id="forged"),
            headers={"Accept": "application/json"},
            timeout=60,
        )
        self.assertEqual(response.status_code, 403)
        self.assertIn("X-CSRF-TOKEN", response.json()["error"]["message"])
        self.fresh()
        self.assertIsNone(read_job("forged"))

    def test_a_cookie_login_with_the_token_may_write(self):
        browser = self.cookie_session(TEST_USER_NAME, TEST_USER_PASSWORD)
        response = browser.post(
            f"{self.url}/@crontab",
            json=dict(JOB, id="mine"),
            headers={
                "Accept": "application/json",
                "X-CSRF-TOKEN": self.token(browser),
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 201, response.text)
        self.fresh()
        self.assertIsNotNone(read_job("mine"))


class TestBadInput(CookieTestCase):
    """F8: 400 with a message, never 500."""

    def assertBadRequest(self, response, words):
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn(words, response.text)

    def test_a_body_with_job_id_is_400(self):
        response = self.manager.post("@crontab", json=dict(JOB, id="x", job_id="y"))
        self.assertBadRequest(response, "Unknown fields: job_id")
        self.add("nightly")
        response = self.manager.patch("@crontab/nightly", json={"job_id": "y"})
        self.assertBadRequest(response, "Unknown fields: job_id")

    def test_a_body_that_is_not_an_object_is_400(self):
        response = self.manager.post("@crontab", json=["id", "x"])
        self.assertBadRequest(response, "Malformed body")

    def test_run_immediately_must_be_a_boolean(self):
        self.add("nightly")
        response = self.manager.post(
            "@crontab/nightly/run", json={"immediately": "yes"}
        )
        self.assertBadRequest(response, "immediately must be a boolean")
        response = self.manager.post("@crontab/nightly/run", json={"now": True})
        self.assertBadRequest(response, "Unknown fields: now")

    def test_a_bad_b_start_is_400(self):
        self.add("nightly")
        for path in (
            "@@crontab-history?job=nightly&b_start=abc",
            "@@crontab-controlpanel?b_start=abc",
            "@@crontab-controlpanel?b_start=-1",
        ):
            response = self.manager.get(path, headers={"Accept": "text/html"})
            self.assertBadRequest(response, "b_start must be a whole number")
        response = self.manager.get("@crontab/nightly?b_start=abc")
        self.assertBadRequest(response, "b_start")


class TestEnablingKeepsTheOwner(CookieTestCase):
    """F1 end to end: a Site Administrator writes a disabled call-view job
    calling a Manager-only page; a Manager enables it through the panel
    and through REST; it still runs as the Site Administrator."""

    def setUp(self):
        super().setUp()
        self.assertEqual(self.siteadmin_job("escalate", enabled=False), "siteadmin")

    def assertRunsAsTheSiteAdministrator(self):
        self.fresh()
        job = read_job("escalate")
        self.assertTrue(job.enabled)
        self.assertEqual(job.owner, "siteadmin")
        login(self.portal, TEST_USER_NAME)
        api.tick(T0)
        api.tick(T0 + minutes(1))
        transaction.commit()
        (run,) = api.history("escalate")
        self.assertEqual(run["status"], "failure")
        self.assertIn("Unauthorized", run["message"])
        self.assertNotIn("the Manager-only page", run["message"])

    def test_enabled_in_the_panel(self):
        browser = self.cookie_session(TEST_USER_NAME, TEST_USER_PASSWORD)
        panel = browser.get(f"{self.url}/@@crontab-controlpanel", timeout=60)
        self.assertIn("runs as", panel.text)
        token = re.search(r'name="_authenticator" value="([0-9a-f]+)"', panel.text)
        response = browser.post(
            f"{self.url}/@@crontab-toggle",
            data={"job": "escalate", "_authenticator": token.group(1)},
            timeout=60,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Enabled Escalate.", response.text)
        self.assertIn("It runs as siteadmin.", response.text)
        self.assertRunsAsTheSiteAdministrator()

    def test_enabled_over_rest(self):
        response = self.manager.patch("@crontab/escalate", json={"enabled": True})
        self.assertEqual(response.status_code, 204)
        self.assertRunsAsTheSiteAdministrator()

    def test_enabled_over_rest_by_cookie(self):
        browser = self.cookie_session(TEST_USER_NAME, TEST_USER_PASSWORD)
        response = browser.patch(
            f"{self.url}/@crontab/escalate",
            json={"enabled": True},
            headers={
                "Accept": "application/json",
                "X-CSRF-TOKEN": self.token(browser),
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 204, response.text)
        self.assertRunsAsTheSiteAdministrator()

    def test_the_manager_changing_what_it_does_is_told_it_owns_it(self):
        response = self.manager.patch(
            "@crontab/escalate",
            json={"arguments": {"path": "@@crontab-test-manager-only?x=1"}},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json()["owner_changed"])
        self.assertEqual(response.json()["owner"], "test_user_1_")


REGISTRY_XML = """<?xml version="1.0"?>
<registry>
  <records interface="collective.crontab.interfaces.ICronJob"
           prefix="collective.crontab.jobs/imported">
    <value key="title">Imported</value>
    <value key="runner">collective.crontab.call-view</value>
    <value key="schedule">* * * * *</value>
    <value key="owner">/{owner}</value>
    <value key="arguments"><element key="path">@@crontab-test-manager-only</element></value>
  </records>
</registry>
"""


class TestTheRegistryIsNoWayIn(CookieTestCase):
    """A Manager of the site may use the configuration registry and
    plone.restapi's @registry (Manage portal; a Site Administrator may
    not): neither may change a cron job's records, or the owner rules and
    the change log would be one form away (a job made to run as a user of
    the Zope root, which only those who may manage the root may name)."""

    def setUp(self):
        super().setUp()
        self.siteadmin_job("theirs")
        self.root_owner = "/" + SITE_OWNER_NAME

    def assertUnchanged(self):
        self.fresh()
        job = read_job("theirs")
        self.assertEqual(job.owner, "siteadmin")
        self.assertEqual(job.arguments, {"path": "@@crontab-test-manager-only"})
        self.assertEqual([change["via"] for change in api.changes("theirs")], ["rest"])

    def manager_browser(self):
        """The Manager's browser session and a CSRF token of the registry."""
        browser = self.cookie_session(TEST_USER_NAME, TEST_USER_PASSWORD)
        page = browser.get(f"{self.url}/portal_registry", timeout=60)
        self.assertEqual(page.status_code, 200)
        return browser, self.token(browser)

    def test_rest_registry_patch_is_refused(self):
        response = self.manager.patch(
            "@registry", json={"collective.crontab.jobs/theirs.owner": self.root_owner}
        )
        self.assertEqual(response.status_code, 403, response.text)
        self.assertIn(
            "Cron job 'theirs': its records (collective.crontab.jobs/theirs.owner) "
            "change only through collective.crontab",
            response.json()["message"],
        )
        self.assertUnchanged()

    def test_the_configuration_registry_form_is_refused(self):
        browser, token = self.manager_browser()
        response = browser.post(
            f"{self.url}/portal_registry/edit/collective.crontab.jobs/theirs.arguments",
            data={
                "form.widgets.value.key.0": "path",
                "form.widgets.value.0": "@@overview-controlpanel",
                "form.widgets.value.count": "1",
                "form.buttons.save": "Save",
                "_authenticator": token,
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 403)
        self.assertUnchanged()

    def test_the_configuration_registry_import_is_refused(self):
        browser, token = self.manager_browser()
        response = browser.post(
            f"{self.url}/portal_registry/@@configuration_registry",
            data={"button.importregistry": "Import", "_authenticator": token},
            files={
                "file": (
                    "registry.xml",
                    REGISTRY_XML.format(owner=SITE_OWNER_NAME).encode(),
                    "text/xml",
                )
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 403)
        self.fresh()
        self.assertIsNone(read_job("imported"))
        self.assertEqual([job["id"] for job in api.jobs()], ["theirs"])


class TestARefusedChangeIsNeverStored(TickTestCase):
    """Python code that catches the registry's refusal and commits anyway
    keeps nothing: the refusal dooms the transaction."""

    def test_catching_the_refusal_and_committing_keeps_nothing(self):
        self.add("job")
        owner = read_job("job").owner
        registry = getUtility(IRegistry)
        with self.assertRaises(Forbidden):
            registry["collective.crontab.jobs/job.owner"] = "/" + SITE_OWNER_NAME
        with self.assertRaises(DoomedTransaction):
            transaction.commit()
        transaction.abort()
        self.assertEqual(read_job("job").owner, owner)
        self.assertEqual([change["via"] for change in api.changes("job")], ["api"])
