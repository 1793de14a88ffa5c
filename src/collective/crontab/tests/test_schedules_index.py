"""The crontab's ``schedules`` index holds what the registry says of when
each job runs, whatever wrote the records: the tick reads only the index."""

from collective.crontab import api
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import read_job
from collective.crontab.jobs import TIMING
from collective.crontab.jobs import writing_records
from collective.crontab.state import get_crontab
from collective.crontab.testing import INTEGRATION_TESTING
from collective.crontab.tests.base import minutes
from collective.crontab.tests.base import store
from collective.crontab.tests.base import T0
from collective.crontab.tests.base import TickTestCase
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import transaction
import unittest


class TestIndex(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.registry = getUtility(IRegistry)
        self.crontab = get_crontab(self.portal)
        api.add_job(
            "report", title="Report", runner="test.record", schedule="0 3 * * *"
        )

    def assertMirrors(self):
        """The index says what the records say, for every job and no other."""
        expected = {}
        for job_id in job_ids():
            job = read_job(job_id)
            expected[job_id] = tuple(getattr(job, name) for name in TIMING)
        self.assertEqual(dict(self.crontab.schedules), expected)

    def test_a_new_job_is_indexed(self):
        self.assertEqual(self.crontab.schedules["report"], ("0 3 * * *", "", True))
        self.assertMirrors()

    def test_api_changes_of_the_time_fields(self):
        api.update_job("report", schedule="*/5 * * * *", timezone="Europe/Berlin")
        api.update_job("report", enabled=False)
        self.assertEqual(
            self.crontab.schedules["report"], ("*/5 * * * *", "Europe/Berlin", False)
        )
        self.assertMirrors()

    def test_other_fields_leave_the_entry_alone(self):
        entry = self.crontab.schedules["report"]
        api.update_job("report", title="Renamed", max_runtime=60)
        self.assertIs(self.crontab.schedules["report"], entry)

    def test_records_written_by_trusted_code(self):
        prefix = f"{JOBS_PREFIX}/report."
        with writing_records():
            self.registry[prefix + "schedule"] = "15 * * * *"
            self.registry.records[prefix + "enabled"].value = False
            self.assertEqual(
                self.crontab.schedules["report"], ("15 * * * *", "", False)
            )
            del self.registry.records[prefix + "timezone"]  # read as the default
        self.assertMirrors()

    def test_a_deleted_job_leaves_the_index(self):
        api.add_job("other", title="Other", runner="test.record", schedule="@daily")
        api.delete_job("report")
        self.assertEqual(list(self.crontab.schedules), ["other"])
        prefix = f"{JOBS_PREFIX}/other."
        with writing_records():
            for name in list(self.registry.records.keys(prefix, prefix[:-1] + "/")):
                del self.registry.records[name]  # removed record by record
        self.assertEqual(list(self.crontab.schedules), [])

    def test_a_job_shipped_in_registry_xml(self):
        self.portal.portal_setup.runAllImportStepsFromProfile(
            "profile-collective.crontab.tests:shipped-job"
        )
        self.assertEqual(
            self.crontab.schedules["nightly-report"],
            ("30 2 * * *", "Europe/Berlin", True),
        )
        self.assertMirrors()

    def test_install_indexes_the_jobs_already_in_the_registry(self):
        del self.crontab.schedules["report"]  # as if added before the install
        self.portal.portal_setup.runAllImportStepsFromProfile(
            "profile-collective.crontab:default"
        )
        self.assertMirrors()


class TestTickReadsTheIndex(TickTestCase):
    def test_a_schedule_changed_in_the_registry_is_followed(self):
        self.add("report", schedule="0 3 * * *")
        api.tick(T0)  # arms it
        store("report", schedule="* * * * *")
        transaction.commit()
        api.tick(T0 + minutes(1))  # arms it again: the schedule changed
        summary = api.tick(T0 + minutes(2))
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["report"])

    def test_a_bad_schedule_written_in_the_registry_sets_the_job_aside(self):
        self.add("report", schedule="0 3 * * *")
        self.add("minutely")
        api.tick(T0)
        store("report", schedule="61 * * * *")
        transaction.commit()
        summary = api.tick(T0 + minutes(1))
        self.assertIn("report", summary["invalid"])
        self.assertIn("schedule", summary["invalid"]["report"])
        self.assertEqual([entry["job"] for entry in summary["ran"]], ["minutely"])
