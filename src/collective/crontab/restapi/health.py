"""GET @crontab-health: the crontab's health for monitors, over plone.restapi."""

from collective.crontab.health import check
from collective.crontab.health import details
from collective.crontab.health import healthy
from collective.crontab.health import may_see_details
from plone.restapi.services import Service


class HealthGet(Service):
    """200 when healthy, else 503. Anonymous callers get ``{"status": "OK"}``
    or ``{"status": "FAIL"}`` only; managers of cron jobs get the details."""

    def reply(self):
        response = self.request.response
        response.setHeader("Cache-Control", "no-store")
        if not may_see_details(self.context):
            ok = healthy(self.context)
            response.setStatus(200 if ok else 503)
            return {"status": "OK" if ok else "FAIL"}
        result = check(self.context)
        response.setStatus(200 if result["healthy"] else 503)
        return details(result)
