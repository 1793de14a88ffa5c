"""Views and the runner the benchmark registers next to the add-on's."""

from bench import naive
from collective.crontab.interfaces import ICronRunner
from plone.protect.interfaces import IDisableCSRFProtection
from Products.Five.browser import BrowserView
from zope.interface import alsoProvides
from zope.interface import implementer

import json
import time


class JSONView(BrowserView):
    """Answers like @@crontab-tick: CSRF off for this GET, JSON, no-store."""

    def __call__(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        summary = self.summary()
        response = self.request.response
        response.setHeader("Content-Type", "application/json")
        response.setHeader("Cache-Control", "no-store")
        return json.dumps(summary)


class EmptyView(JSONView):
    def summary(self):
        return {}


class NaiveTickView(JSONView):
    def summary(self):
        return naive.tick(self.context)


@implementer(ICronRunner)
class NoopRunner:
    """Does nothing, returns a short message, and counts its own time so
    that the tick's cost per job can be told apart from the runner's."""

    title = "Benchmark: no-op"
    description = "Does nothing."

    def __init__(self):
        self.elapsed = 0.0
        self.calls = 0

    def __call__(self, site, job):
        start = time.perf_counter()
        self.calls += 1
        message = f"ok {job.id}"
        self.elapsed += time.perf_counter() - start
        return message


noop = NoopRunner()


@implementer(ICronRunner)
class SleepRunner:
    """Sleeps ``seconds`` of real time: the long job of the lanes figure."""

    title = "Benchmark: sleep"
    description = "Takes its time."

    def __call__(self, site, job):
        time.sleep(float(job.arguments["seconds"]))
        return "slept"
