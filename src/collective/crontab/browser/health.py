from collective.crontab.health import check
from collective.crontab.health import details
from collective.crontab.health import healthy
from collective.crontab.health import may_see_details
from Products.Five.browser import BrowserView

import json


class HealthView(BrowserView):
    """Public, for monitors: 200 when healthy, else 503. The body is ``OK``
    or ``FAIL``, or the details as JSON for managers of cron jobs."""

    def __call__(self):
        response = self.request.response
        response.setHeader("Cache-Control", "no-store")
        if not may_see_details(self.context):
            ok = healthy(self.context)
            response.setStatus(200 if ok else 503)
            response.setHeader("Content-Type", "text/plain; charset=utf-8")
            return "OK" if ok else "FAIL"
        result = check(self.context)
        response.setStatus(200 if result["healthy"] else 503)
        response.setHeader("Content-Type", "application/json")
        return json.dumps(details(result), indent=2)
