"""GET @crontab-health: the crontab's health for monitors, over plone.restapi."""

from collective.crontab import api
from plone.restapi.services import Service


class HealthGet(Service):
    """200 when healthy, else 503. Anonymous callers get ``{"status": "OK"}``
    or ``{"status": "FAIL"}`` only; managers of cron jobs get the details."""

    def reply(self):
        response = self.request.response
        response.setHeader("Cache-Control", "no-store")
        result = api.check_health()
        response.setStatus(200 if result["healthy"] else 503)
        if "problems" not in result:  # the short answer
            return {"status": result["status"]}
        return result
