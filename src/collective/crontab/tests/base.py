"""Shared set-up for tests that tick a real site (they commit)."""

from collective.crontab import api
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import writing_records
from collective.crontab.schedule import UTC
from collective.crontab.state import get_crontab
from collective.crontab.testing import FUNCTIONAL_TESTING
from collective.crontab.tests.runners import traces
from datetime import datetime
from datetime import timedelta
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import transaction
import unittest


T0 = datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)


def store(job_id, **values):
    """Write job records as a profile's registry.xml or an older version of
    the add-on would have: no validation, no owner rule."""
    registry = getUtility(IRegistry)
    with writing_records():
        for name, value in values.items():
            registry[f"{JOBS_PREFIX}/{job_id}.{name}"] = value


def minutes(n):
    return timedelta(minutes=n)


class FakeClock:
    """The engine's time source, injected (engine.current_time): it moves when told."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


class TickTestCase(unittest.TestCase):
    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        transaction.commit()

    def add(self, job_id, runner="test.record", schedule="* * * * *", **fields):
        job = api.add_job(
            job_id, title=job_id.title(), runner=runner, schedule=schedule, **fields
        )
        transaction.commit()
        return job

    def traces(self):
        return traces(self.portal)

    def ran(self, job_id):
        return [what for job, what in self.traces() if job == job_id]

    @property
    def crontab(self):
        return get_crontab(self.portal)

    def last_transaction(self):
        return self.portal._p_jar.db().lastTransaction()
