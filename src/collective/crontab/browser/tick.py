from collective.crontab.tick import tick
from plone.protect.interfaces import IDisableCSRFProtection
from Products.Five.browser import BrowserView
from zope.interface import alsoProvides

import json


class TickView(BrowserView):
    """Run what is due; answer a JSON summary. Called by the clock (a GET),
    so automatic CSRF protection is switched off, for this request only:
    the permission check (collective.crontab.RunTick) has passed by now."""

    def __call__(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        summary = tick(self.context)
        response = self.request.response
        response.setHeader("Content-Type", "application/json")
        response.setHeader("Cache-Control", "no-store")
        return json.dumps(summary)
