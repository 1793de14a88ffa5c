"""Least privilege: who may tick, see the control panel and change jobs;
jobs run with their owner's rights, never more; bounded runner output."""

from AccessControl import Unauthorized
from collective.crontab import api
from collective.crontab.schedule import utcnow
from collective.crontab.state import MAX_TEXT
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from plone.app.testing import login
from plone.app.testing import logout
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.protect.interfaces import IDisableCSRFProtection
from plone.testing.zope import Browser
from zope.component import queryMultiAdapter

import transaction


PASSWORD = "secret-password-1"


class RoleTestCase(TickTestCase):
    """A due job that any tick would run, and a user with one role."""

    def setUp(self):
        super().setUp()
        self.add("due", runner="test.record")
        self.crontab.handled["due"] = utcnow() - minutes(1)
        transaction.commit()
        self.last = self.crontab.handled["due"]

    def make_user(self, user_id, roles):
        self.portal.acl_users.userFolderAddUser(user_id, PASSWORD, [], [])
        setRoles(self.portal, user_id, roles)
        transaction.commit()

    def browser(self, user_id=None):
        browser = Browser(self.layer["app"])
        browser.raiseHttpErrors = False
        if user_id:
            browser.addHeader("Authorization", f"Basic {user_id}:{PASSWORD}")
        return browser

    def assertDeniedOverHttp(self, user_id, view):
        """Plone answers Unauthorized with the login form (anonymous) or
        the 'insufficient privileges' page; the tick with 401 or 403."""
        browser = self.browser(user_id)
        browser.open(self.portal.absolute_url() + "/@@" + view)
        self.assertTrue(
            "/login?came_from=" in browser.url
            or browser.url.endswith("/insufficient-privileges")
            or browser.headers["status"][:3] in ("401", "403"),
            f"{user_id} reached {view}: {browser.url}",
        )
        contents = browser.contents
        self.assertNotIn(
            '"ran"', contents if isinstance(contents, str) else contents.decode()
        )

    def assertNothingRan(self):
        transaction.begin()
        login(self.portal, TEST_USER_NAME)
        self.assertEqual(self.ran("due"), [])
        self.assertEqual(api.history("due"), [])
        self.assertEqual(self.crontab.handled["due"], self.last)


class TestRoles(RoleTestCase):
    def assertDenied(self, user_id):
        self.assertDeniedOverHttp(user_id, "crontab-tick")
        if user_id:
            login(self.portal, user_id)
        else:
            logout()
        for mutation in (
            lambda: api.add_job(
                "new", title="New", runner="test.record", schedule="@daily"
            ),
            lambda: api.update_job("due", schedule="@daily"),
            lambda: api.delete_job("due"),
            lambda: api.clear_history("due"),
            lambda: api.run_now("due"),
            lambda: api.run_now("due", immediately=True),
            lambda: api.tick(),
            lambda: api.jobs(),
        ):
            with self.assertRaises(Unauthorized):
                mutation()
        transaction.commit()
        login(self.portal, TEST_USER_NAME)
        self.assertEqual(api.get_job("due")["schedule"], "* * * * *")
        self.assertFalse(api.get_job("due")["queued"])
        self.assertNothingRan()

    def test_anonymous(self):
        self.assertDenied(None)

    def test_member(self):
        self.make_user("member", ["Member"])
        self.assertDenied("member")

    def test_contributor(self):
        self.make_user("contributor", ["Member", "Contributor"])
        self.assertDenied("contributor")

    def test_editor(self):
        self.make_user("editor", ["Member", "Editor"])
        self.assertDenied("editor")

    def test_reviewer(self):
        self.make_user("reviewer", ["Member", "Reviewer"])
        self.assertDenied("reviewer")

    def test_manager_may_tick_over_http(self):
        # The control for the tests above: the same due job runs for a Manager.
        browser = self.browser()
        browser.addHeader(
            "Authorization", f"Basic {SITE_OWNER_NAME}:{SITE_OWNER_PASSWORD}"
        )
        browser.open(self.layer["app"].absolute_url() + "/plone/@@crontab-tick")
        transaction.begin()
        self.assertIn("ran", self.ran("due"))

    def test_site_administrator_may_tick_over_http(self):
        self.make_user("siteadmin", ["Site Administrator"])
        self.browser("siteadmin").open(self.portal.absolute_url() + "/@@crontab-tick")
        transaction.begin()
        self.assertIn("ran", self.ran("due"))


class TestControlPanelRoles(RoleTestCase):
    def setUp(self):
        super().setUp()
        if (
            queryMultiAdapter(
                (self.portal, self.layer["request"]), name="crontab-controlpanel"
            )
            is None
        ):
            self.skipTest("the control panel view (issue 4) is not on this branch")

    def assertDenied(self, user_id, roles=()):
        if user_id:
            self.make_user(user_id, roles)
        self.assertDeniedOverHttp(user_id, "crontab-controlpanel")
        self.assertNothingRan()

    def test_anonymous(self):
        self.assertDenied(None)

    def test_member(self):
        self.assertDenied("member", ["Member"])

    def test_contributor(self):
        self.assertDenied("contributor", ["Member", "Contributor"])

    def test_editor(self):
        self.assertDenied("editor", ["Member", "Editor"])

    def test_reviewer(self):
        self.assertDenied("reviewer", ["Member", "Reviewer"])


class TestCSRF(RoleTestCase):
    def test_unauthorized_tick_leaves_csrf_protection_on(self):
        self.make_user("member", ["Member"])
        login(self.portal, "member")
        request = self.layer["request"]
        with self.assertRaises(Unauthorized):
            self.portal.restrictedTraverse("@@crontab-tick")()
        self.assertFalse(IDisableCSRFProtection.providedBy(request))
        self.assertNothingRan()

    def test_tick_switches_it_off_for_its_own_request(self):
        request = self.layer["request"]
        self.portal.restrictedTraverse("@@crontab-tick")()
        self.assertTrue(IDisableCSRFProtection.providedBy(request))


class TestOwnerRights(TickTestCase):
    def setUp(self):
        super().setUp()
        for user_id, roles in (
            ("editor", ["Editor"]),
            ("siteadmin", ["Site Administrator"]),
        ):
            self.portal.acl_users.userFolderAddUser(user_id, PASSWORD, [], [])
            setRoles(self.portal, user_id, roles)
        transaction.commit()

    def test_editor_job_calling_a_manager_view_fails_unauthorized(self):
        self.add(
            "escalate",
            runner="collective.crontab.call-view",
            owner="editor",
            arguments={"path": "@@overview-controlpanel"},
        )
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("escalate")
        self.assertEqual(run["status"], "failure")
        self.assertIn("Unauthorized", run["message"])
        self.assertIn("Unauthorized", run["traceback"])

    def test_editor_job_cannot_tick_either(self):
        self.add(
            "recurse",
            runner="collective.crontab.call-view",
            owner="editor",
            arguments={"path": "@@crontab-tick"},
        )
        api.tick(T0)
        api.tick(T0 + minutes(1))
        (run,) = api.history("recurse")
        self.assertEqual(run["status"], "failure")
        self.assertIn("Unauthorized", run["message"])

    def test_site_administrator_cannot_name_a_manager_owner(self):
        login(self.portal, "siteadmin")
        with self.assertRaises(Unauthorized) as caught:
            api.add_job(
                "mine",
                title="Mine",
                runner="test.whoami",
                schedule="@daily",
                owner=TEST_USER_ID,
            )
        self.assertIn(
            "only a Manager may make a job run as another user", str(caught.exception)
        )
        self.assertEqual([job["id"] for job in api.jobs()], [])

    def test_site_administrator_job_runs_as_the_site_administrator(self):
        login(self.portal, "siteadmin")
        self.add("mine", runner="test.whoami")
        self.assertEqual(api.get_job("mine")["owner"], "siteadmin")
        api.tick(T0)
        api.tick(T0 + minutes(1))
        self.assertEqual(self.ran("mine"), ["siteadmin"])

    def test_site_administrator_editing_a_manager_job_takes_it_over(self):
        self.add("managers", runner="test.whoami")
        login(self.portal, "siteadmin")
        api.update_job("managers", runner="test.record")
        transaction.commit()
        self.assertEqual(api.get_job("managers")["owner"], "siteadmin")
        with self.assertRaises(Unauthorized):
            api.update_job("managers", owner=TEST_USER_ID)


class TestOutputLimit(TickTestCase):
    def run_flood(self, **arguments):
        self.add(
            "flood",
            runner="test.flood",
            arguments=dict(size=str(1024 * 1024), **arguments),
        )
        api.tick(T0)
        summary = api.tick(T0 + minutes(1))
        (run,) = api.history("flood")
        self.assertLessEqual(len(summary["ran"][0]["message"]), 200)
        return run

    def test_message_limited_to_64_kb(self):
        run = self.run_flood()
        self.assertEqual(run["status"], "success")
        self.assertLessEqual(len(run["message"]), MAX_TEXT)
        self.assertIn("[truncated, 1048576 characters]", run["message"])

    def test_failure_message_and_traceback_limited_to_64_kb(self):
        run = self.run_flood(fail="1")
        self.assertEqual(run["status"], "failure")
        self.assertLessEqual(len(run["message"]), MAX_TEXT)
        self.assertLessEqual(len(run["traceback"]), MAX_TEXT)
        self.assertIn("truncated", run["traceback"])
