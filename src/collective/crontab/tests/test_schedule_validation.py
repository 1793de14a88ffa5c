"""A schedule is saved only when a next run can be computed in the zone
the job runs in: its own time zone, else the site's."""

from collective.crontab import api
from collective.crontab.jobs import JobError
from collective.crontab.jobs import read_job
from collective.crontab.testing import INTEGRATION_TESTING
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import unittest


#: Every 02:xx of the second Sunday of March is in New York's DST gap.
IN_THE_GAP = "* 2 * 3 0#2"


class TestScheduleValidation(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        setRoles(self.layer["portal"], TEST_USER_ID, ["Manager"])

    def add(self, **fields):
        return api.add_job(
            "gap", title="Gap", runner="test.record", schedule=IN_THE_GAP, **fields
        )

    def set_site_zone(self, zone):
        getUtility(IRegistry)["plone.portal_timezone"] = zone

    def test_rejected_in_its_own_zone(self):
        with self.assertRaises(JobError) as caught:
            self.add(timezone="America/New_York")
        message = str(caught.exception)
        self.assertIn("Cron job 'gap'", message)
        self.assertEqual(list(caught.exception.errors), ["schedule"])
        self.assertIn("no run time in America/New_York", message)

    def test_rejected_in_the_site_zone(self):
        self.set_site_zone("America/New_York")
        with self.assertRaises(JobError) as caught:
            self.add()
        self.assertIn("schedule", caught.exception.errors)

    def test_accepted_where_the_times_exist(self):
        self.set_site_zone("America/New_York")
        self.assertEqual(self.add(timezone="UTC")["schedule"], IN_THE_GAP)

    def test_becomes_invalid_when_the_site_zone_changes(self):
        self.add()  # the site is in UTC
        self.set_site_zone("America/New_York")
        with self.assertRaises(JobError) as caught:
            read_job("gap").cron  # noqa: B018
        self.assertIn("schedule", caught.exception.errors)
        self.assertIn("daylight-saving gaps", str(caught.exception))
