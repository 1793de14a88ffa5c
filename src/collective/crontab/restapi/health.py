"""GET @crontab-health: the crontab's health for monitors, over plone.restapi."""

from collective.crontab.health import check
from collective.crontab.health import details
from collective.crontab.health import may_see_details
from plone.restapi.services import Service


class HealthGet(Service):
    """200 when healthy, else 503. Anonymous callers get ``{"status": "OK"}``
    or ``{"status": "FAIL"}`` only; managers of cron jobs get the details."""

    def reply(self):
        result = check(self.context)
        response = self.request.response
        response.setStatus(200 if result["healthy"] else 503)
        response.setHeader("Cache-Control", "no-store")
        if may_see_details(self.context):
            return details(result)
        return {"status": details(result)["status"]}
