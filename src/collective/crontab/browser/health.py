from collective.crontab.health import check
from collective.crontab.health import details
from collective.crontab.health import may_see_details
from Products.Five.browser import BrowserView

import json


class HealthView(BrowserView):
    """Public, for monitors: 200 when healthy, else 503. The body is ``OK``
    or ``FAIL``, or the details as JSON for managers of cron jobs."""

    def __call__(self):
        result = check(self.context)
        response = self.request.response
        response.setStatus(200 if result["healthy"] else 503)
        response.setHeader("Cache-Control", "no-store")
        data = details(result)
        if not may_see_details(self.context):
            response.setHeader("Content-Type", "text/plain; charset=utf-8")
            return data["status"]
        response.setHeader("Content-Type", "application/json")
        return json.dumps(data, indent=2)
