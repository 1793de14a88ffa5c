"""The REST API and the health check over real HTTP (a WSGI server)."""

from collective.crontab import api
from collective.crontab.jobs import read_job
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.testing import HTTP_TESTING
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import T0
from datetime import datetime
from datetime import timedelta
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.app.testing import TEST_USER_PASSWORD
from zope.globalrequest import getRequest

import requests
import transaction
import unittest


PASSWORD = "secret-password-1"
JOB = {"title": "A job", "runner": "test.record", "schedule": "@daily"}


class Session(requests.Session):
    """Requests to paths relative to the site, as one user (or anonymous)."""

    def __init__(self, base, auth):
        super().__init__()
        self.base = base
        self.auth = auth
        self.headers["Accept"] = "application/json"

    def request(self, method, url, **kwargs):
        if not url.startswith("http"):
            url = f"{self.base}/{url}"
        return super().request(method, url, timeout=60, **kwargs)


class RestTestCase(unittest.TestCase):
    layer = HTTP_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        users = self.portal.acl_users
        users.userFolderAddUser("siteadmin", PASSWORD, ["Site Administrator"], [])
        users.userFolderAddUser("member", PASSWORD, ["Member"], [])
        transaction.commit()
        self.url = self.portal.absolute_url()
        self.manager = self.session((TEST_USER_NAME, TEST_USER_PASSWORD))
        self.siteadmin = self.session(("siteadmin", PASSWORD))
        self.member = self.session(("member", PASSWORD))
        self.anonymous = self.session(None)

    def session(self, auth):
        session = Session(self.url, auth)
        self.addCleanup(session.close)
        return session

    def add(self, job_id, **fields):
        values = {
            "title": job_id.title(),
            "runner": "test.record",
            "schedule": "0 * * * *",
        }
        values.update(fields)
        api.add_job(job_id, **values)
        transaction.commit()

    def errors(self, response):
        """The field errors of a 400 answer."""
        self.assertEqual(response.status_code, 400)
        return response.json()["error"]["errors"]

    def fresh(self):
        """See what the server committed (plone.registry caches values per
        request: the test's request outlives the server's requests)."""
        transaction.begin()
        getRequest().other.pop("_plone_registry_cache", None)


class TestList(RestTestCase):
    def test_lists_jobs_with_their_state(self):
        self.add("hourly")
        api.tick(T0)
        api.tick(T0 + minutes(60))
        transaction.commit()
        response = self.manager.get("@crontab")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["@id"], self.url + "/@crontab")
        self.assertEqual(data["items_total"], 1)
        (job,) = data["items"]
        self.assertEqual(job["@id"], self.url + "/@crontab/hourly")
        self.assertEqual(job["schedule"], "0 * * * *")
        self.assertEqual(job["owner"], TEST_USER_ID)
        self.assertEqual(job["last_status"], "success")
        self.assertEqual(job["last_run"]["slot"], "2026-01-05T13:00:00+00:00")
        next_run = datetime.fromisoformat(job["next_run"])
        self.assertEqual((next_run.minute, next_run.second), (0, 0))
        self.assertLess(next_run - utcnow(), timedelta(hours=1))

    def test_site_administrator_may_list(self):
        self.assertEqual(self.siteadmin.get("@crontab").status_code, 200)

    def test_anonymous_and_members_are_unauthorized(self):
        for session in (self.anonymous, self.member):
            response = session.get("@crontab")
            self.assertEqual(response.status_code, 401)
            self.assertEqual(response.json()["type"], "Unauthorized")


class TestJob(RestTestCase):
    def test_job_with_batched_history_newest_first(self):
        self.add("minutely", schedule="* * * * *")
        for minute in range(6):
            api.tick(T0 + minutes(minute))
        transaction.commit()
        response = self.manager.get("@crontab/minutely?b_size=2&b_start=2")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["id"], "minutely")
        history = data["history"]
        self.assertEqual(history["items_total"], 5)
        slots = [run["slot"] for run in history["items"]]
        self.assertEqual(
            slots, ["2026-01-05T12:03:00+00:00", "2026-01-05T12:02:00+00:00"]
        )
        self.assertEqual(history["items"][0]["status"], "success")
        links = history["batching"]
        self.assertEqual(
            links["next"], self.url + "/@crontab/minutely?b_start=4&b_size=2"
        )
        self.assertEqual(
            links["prev"], self.url + "/@crontab/minutely?b_start=0&b_size=2"
        )
        last = self.manager.get(links["last"]).json()["history"]["items"]
        self.assertEqual([run["slot"] for run in last], ["2026-01-05T12:01:00+00:00"])

    def test_short_history_is_not_batched(self):
        self.add("hourly")
        data = self.manager.get("@crontab/hourly").json()
        self.assertEqual(data["history"], {"items": [], "items_total": 0})

    def test_unknown_job_is_404(self):
        response = self.manager.get("@crontab/nope")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            response.json(),
            {"error": {"type": "NotFound", "message": "There is no cron job 'nope'"}},
        )

    def test_unknown_sub_resource_is_404(self):
        self.add("hourly")
        response = self.manager.get("@crontab/hourly/run")
        self.assertEqual(response.status_code, 404)
        message = response.json()["error"]["message"]
        self.assertEqual(message, "Unknown endpoint @crontab/hourly/run")


class TestAdd(RestTestCase):
    def test_add_job(self):
        response = self.manager.post(
            "@crontab",
            json={
                "id": "pack",
                "title": "Pack",
                "runner": "test.record",
                "schedule": "@daily",
                "arguments": {"days": "7"},
            },
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.headers["Location"], self.url + "/@crontab/pack")
        data = response.json()
        self.assertEqual(data["schedule"], "@daily")
        self.assertEqual(data["owner"], TEST_USER_ID)
        self.fresh()
        job = read_job("pack")
        self.assertEqual((job.title, job.arguments), ("Pack", {"days": "7"}))

    def test_bad_fields_are_400_naming_each_field(self):
        response = self.manager.post(
            "@crontab",
            json=dict(JOB, id="bad", runner="no.such", schedule="61 * * * *"),
        )
        self.assertEqual(response.status_code, 400)
        error = response.json()["error"]
        self.assertEqual(error["type"], "BadRequest")
        self.assertTrue(error["message"].startswith("Cron job 'bad': "))
        fields = {item["field"]: item["message"] for item in error["errors"]}
        self.assertEqual(set(fields), {"runner", "schedule"})
        self.assertEqual(fields["runner"], "'no.such' is not a registered runner")
        self.assertIn("minute field '61'", fields["schedule"])
        self.fresh()
        self.assertIsNone(read_job("bad"))

    def test_missing_id_is_400(self):
        response = self.manager.post("@crontab", json=JOB)
        self.assertEqual(
            self.errors(response), [{"field": "id", "message": "is required"}]
        )

    def test_existing_id_is_400(self):
        self.add("hourly")
        response = self.manager.post("@crontab", json=dict(JOB, id="hourly"))
        self.assertEqual(
            self.errors(response),
            [{"field": "id", "message": "a job with this id already exists"}],
        )

    def test_malformed_json_is_400(self):
        response = self.manager.post(
            "@crontab", data="{not json", headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json()["error"]["message"], "No JSON object could be decoded"
        )

    def test_anonymous_cannot_add(self):
        response = self.anonymous.post("@crontab", json=dict(JOB, id="x"))
        self.assertEqual(response.status_code, 401)
        self.fresh()
        self.assertIsNone(read_job("x"))


class TestOwnerRule(RestTestCase):
    job = {
        "id": "as-admin",
        "title": "As admin",
        "runner": "test.whoami",
        "schedule": "@daily",
    }

    def test_site_administrator_cannot_make_a_job_run_as_admin(self):
        response = self.siteadmin.post(
            "@crontab", json=dict(self.job, owner=SITE_OWNER_NAME)
        )
        self.assertEqual(response.status_code, 403)
        error = response.json()["error"]
        self.assertEqual(error["type"], "Forbidden")
        self.assertIn(
            "only a Manager may make a job run as another user ('admin')",
            error["message"],
        )
        self.fresh()
        self.assertIsNone(read_job("as-admin"))

    def test_site_administrator_cannot_patch_the_owner(self):
        self.add("mine", runner="test.whoami")
        response = self.siteadmin.patch(
            "@crontab/mine", json={"owner": SITE_OWNER_NAME}
        )
        self.assertEqual(response.status_code, 403)
        self.fresh()
        self.assertEqual(read_job("mine").owner, TEST_USER_ID)

    def test_site_administrator_becomes_owner_of_what_it_adds(self):
        response = self.siteadmin.post("@crontab", json=self.job)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["owner"], "siteadmin")

    def test_manager_may_name_another_owner(self):
        admin = self.session((SITE_OWNER_NAME, SITE_OWNER_PASSWORD))
        response = admin.post("@crontab", json=dict(self.job, owner="siteadmin"))
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["owner"], "siteadmin")

    def test_unknown_owner_is_400(self):
        response = self.manager.post("@crontab", json=dict(self.job, owner="ghost"))
        self.assertEqual(
            self.errors(response),
            [{"field": "owner", "message": "user 'ghost' does not exist"}],
        )


class TestEdit(RestTestCase):
    def test_disable_with_patch(self):
        self.add("hourly")
        response = self.manager.patch("@crontab/hourly", json={"enabled": False})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.text, "")
        self.fresh()
        self.assertFalse(read_job("hourly").enabled)

    def test_patch_returns_the_job_when_asked(self):
        self.add("hourly")
        response = self.manager.patch(
            "@crontab/hourly",
            json={"schedule": "*/5 * * * *"},
            headers={"Prefer": "return=representation"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["schedule"], "*/5 * * * *")

    def test_bad_patch_is_400_and_changes_nothing(self):
        self.add("hourly")
        response = self.manager.patch(
            "@crontab/hourly", json={"title": "New", "timezone": "Mars/Olympus"}
        )
        (error,) = self.errors(response)
        self.assertEqual(error["field"], "timezone")
        self.assertEqual(
            error["message"], "'Mars/Olympus' is not a known IANA time zone"
        )
        self.fresh()
        self.assertEqual(read_job("hourly").title, "Hourly")

    def test_unknown_field_is_400(self):
        self.add("hourly")
        response = self.manager.patch("@crontab/hourly", json={"colour": "red"})
        self.assertEqual(
            self.errors(response),
            [{"field": "colour", "message": "is not a field of a cron job"}],
        )

    def test_patch_unknown_job_is_404(self):
        response = self.manager.patch("@crontab/nope", json={"enabled": False})
        self.assertEqual(response.status_code, 404)

    def test_member_cannot_patch(self):
        self.add("hourly")
        response = self.member.patch("@crontab/hourly", json={"enabled": False})
        self.assertEqual(response.status_code, 401)
        self.fresh()
        self.assertTrue(read_job("hourly").enabled)


class TestDelete(RestTestCase):
    def test_delete_job_and_its_history(self):
        self.add("hourly")
        api.tick(T0)
        api.tick(T0 + minutes(60))
        transaction.commit()
        response = self.manager.delete("@crontab/hourly")
        self.assertEqual(response.status_code, 204)
        self.fresh()
        self.assertIsNone(read_job("hourly"))
        self.assertIsNone(get_crontab(self.portal).state("hourly"))
        self.assertEqual(self.manager.get("@crontab/hourly").status_code, 404)

    def test_delete_unknown_job_is_404(self):
        self.assertEqual(self.manager.delete("@crontab/nope").status_code, 404)

    def test_anonymous_cannot_delete(self):
        self.add("hourly")
        self.assertEqual(self.anonymous.delete("@crontab/hourly").status_code, 401)
        self.fresh()
        self.assertIsNotNone(read_job("hourly"))


class TestRunNow(RestTestCase):
    def test_run_queues_for_next_tick(self):
        self.add("yearly", schedule="@yearly")
        response = self.manager.post("@crontab/yearly/run")
        self.assertEqual(response.status_code, 202)
        self.assertTrue(response.json()["queued"])
        self.fresh()
        summary = api.tick(T0)
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["yearly"])

    def test_run_immediately_runs_as_the_owner(self):
        self.add("who", runner="test.whoami", schedule="@yearly", enabled=False)
        response = self.manager.post("@crontab/who/run", json={"immediately": True})
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertFalse(data["queued"])
        self.assertEqual(data["last_status"], "success")
        self.assertEqual(data["last_run"]["message"], TEST_USER_ID)

    def test_run_unknown_job_is_404(self):
        self.assertEqual(self.manager.post("@crontab/nope/run").status_code, 404)

    def test_unknown_action_is_404(self):
        self.add("hourly")
        self.assertEqual(self.manager.post("@crontab/hourly/explode").status_code, 404)

    def test_member_cannot_run(self):
        self.add("hourly")
        self.assertEqual(self.member.post("@crontab/hourly/run").status_code, 401)


class TestHealth(RestTestCase):
    def late_job(self):
        """A job whose run failed, and a clock that ticked just now."""
        self.add("broken", runner="test.fail", schedule="* * * * *")
        now = utcnow()
        api.tick(now - minutes(1))
        api.tick(now)
        transaction.commit()

    def test_anonymous_gets_fail_and_nothing_else(self):
        response = self.anonymous.get(
            "@@crontab-health", headers={"Accept": "text/plain"}
        )
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.text, "FAIL")
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        response = self.anonymous.get("@crontab-health")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json(), {"status": "FAIL"})

    def test_anonymous_gets_ok_when_the_clock_ticks(self):
        api.tick(utcnow())
        transaction.commit()
        response = self.anonymous.get(
            "@@crontab-health", headers={"Accept": "text/plain"}
        )
        self.assertEqual((response.status_code, response.text), (200, "OK"))
        response = self.anonymous.get("@crontab-health")
        self.assertEqual(
            (response.status_code, response.json()), (200, {"status": "OK"})
        )

    def test_member_gets_no_details(self):
        self.late_job()
        response = self.member.get("@crontab-health")
        self.assertEqual(
            (response.status_code, response.json()), (503, {"status": "FAIL"})
        )

    def test_manager_gets_what_is_wrong(self):
        self.late_job()
        for response in (
            self.manager.get("@crontab-health"),
            self.siteadmin.get("@@crontab-health", headers={"Accept": "text/plain"}),
        ):
            self.assertEqual(response.status_code, 503)
            data = response.json()
            self.assertEqual(data["status"], "FAIL")
            self.assertTrue(data["clock"]["healthy"])
            self.assertEqual([late["job"] for late in data["late"]], ["broken"])
            self.assertEqual(data["late"][0]["last_status"], "failure")
            self.assertIn("Cron job 'broken' is failing", data["problems"][0])

    def test_manager_gets_details_when_healthy(self):
        api.tick(utcnow())
        transaction.commit()
        response = self.manager.get("@crontab-health")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(
            (data["status"], data["problems"], data["late"]), ("OK", [], [])
        )
        self.assertIsNotNone(data["clock"]["last_tick"])


class TestControlpanel(RestTestCase):
    def test_listed_in_controlpanels(self):
        response = self.manager.get("@controlpanels")
        panels = {panel["@id"]: panel for panel in response.json()}
        panel = panels[self.url + "/@controlpanels/crontab-controlpanel"]
        self.assertEqual(panel["title"], "Cron jobs")
        self.assertEqual(panel["group"], "Add-on Configuration")

    def test_panel_has_the_job_schema_and_the_jobs(self):
        self.add("hourly")
        response = self.manager.get("@controlpanels/crontab-controlpanel")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        properties = data["schema"]["properties"]
        self.assertEqual(properties["schedule"]["title"], "Schedule")
        choices = [value for value, title in properties["catch_up"]["choices"]]
        self.assertEqual(choices, ["skip", "once"])
        self.assertIn("runner", data["schema"]["required"])
        self.assertEqual(
            [job["@id"] for job in data["items"]], [self.url + "/@crontab/hourly"]
        )
        self.assertEqual(data["@components"]["crontab"]["@id"], self.url + "/@crontab")

    def test_panel_settings_cannot_be_patched(self):
        response = self.manager.patch(
            "@controlpanels/crontab-controlpanel", json={"title": "x"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("@crontab", response.json()["message"])
