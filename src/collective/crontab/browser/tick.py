from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from collective.crontab import api
from collective.crontab.permissions import RunTick
from plone.protect.interfaces import IDisableCSRFProtection
from Products.Five.browser import BrowserView
from zope.interface import alsoProvides

import json


class TickView(BrowserView):
    """Run what is due; answer a JSON summary. Called by the clock or by
    cron + curl, so refusals are HTTP statuses a script can detect (401
    with a Basic Auth challenge, 403), never a redirect to the login form:
    the view is public for the publisher and checks RunTick itself. The
    tick is a GET, so automatic CSRF protection is switched off, for this
    request only, once the permission check has passed. Called from code
    (not published), a refusal raises Unauthorized as a protected view would."""

    def __call__(self):
        response = self.request.response
        response.setHeader("Content-Type", "application/json")
        response.setHeader("Cache-Control", "no-store")
        security = getSecurityManager()
        if not security.checkPermission(RunTick, self.context):
            if self.request.get("PUBLISHED") is not self:
                raise Unauthorized("You may not run the cron tick here")
            if security.getUser().getUserName() == "Anonymous User":
                response.setStatus(401)
                response.setHeader("WWW-Authenticate", 'Basic realm="Zope"')
            else:
                response.setStatus(403)
            return json.dumps({"error": "You may not run the cron tick here"})
        alsoProvides(self.request, IDisableCSRFProtection)
        return json.dumps(api.tick())
