"""Views the tests call through call-view jobs."""

from AccessControl import getSecurityManager
from Products.Five.browser import BrowserView

import json


class Echo(BrowserView):
    """What the request carries, as JSON; sets a cookie and a header."""

    def __call__(self):
        request = self.request
        self.request.response.setCookie("leaked", "yes")
        self.request.response.setHeader("X-Leaked", "yes")
        return json.dumps({
            "form": dict(request.form),
            "cookies": sorted(request.cookies),
            "caller_header": request.getHeader("X-Caller"),
            "user": getSecurityManager().getUser().getId(),
        })


class ManagerOnly(BrowserView):
    """A page only Managers may see."""

    def __call__(self):
        return "the Manager-only page"
