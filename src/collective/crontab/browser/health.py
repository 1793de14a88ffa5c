from collective.crontab import api
from Products.Five.browser import BrowserView

import json


class HealthView(BrowserView):
    """Public, for monitors: 200 when healthy, else 503. The body is ``OK``
    or ``FAIL``, or the details as JSON for managers of cron jobs."""

    def __call__(self):
        response = self.request.response
        response.setHeader("Cache-Control", "no-store")
        result = api.check_health()
        response.setStatus(200 if result["healthy"] else 503)
        if "problems" not in result:  # the short answer
            response.setHeader("Content-Type", "text/plain; charset=utf-8")
            return result["status"]
        response.setHeader("Content-Type", "application/json")
        return json.dumps(result, indent=2)
