"""What every page of the panel shares: the clock health banner, URLs,
and the current job."""

from collective.crontab import _
from collective.crontab import api
from collective.crontab.controlpanel import display
from collective.crontab.schedule import utcnow
from plone.protect.utils import addTokenToUrl
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from Products.statusmessages.interfaces import IStatusMessage
from urllib.parse import urlencode
from zExceptions import NotFound
from zope.i18n import translate

import html


PANEL = "@@crontab-controlpanel"


class PanelMixin:
    """Mixed into the panel's views (context: the site)."""

    health_banner = ViewPageTemplateFile("templates/health.pt")

    @property
    def now(self):
        if not hasattr(self, "_now"):
            self._now = utcnow()
        return self._now

    @property
    def site_zone(self):
        return api.site_timezone()

    @property
    def site_url(self):
        return self.context.absolute_url()

    @property
    def panel_url(self):
        return f"{self.site_url}/{PANEL}"

    @property
    def overview_url(self):
        return f"{self.site_url}/@@overview-controlpanel"

    def page_url(self, name, job_id=None, token=False, **params):
        url = f"{self.site_url}/@@crontab-{name}"
        if job_id is not None:
            params = dict(job=job_id, **params)
        if params:
            url += "?" + urlencode(params)
        return addTokenToUrl(url, self.request) if token else url

    def translate(self, message):
        return translate(message, context=self.request)

    def local_time(self, when):
        return display.local_time(when, self.site_zone)

    def relative(self, when):
        return self.translate(display.relative_time(when, self.now)) if when else ""

    @property
    def health(self):
        """api.clock_health with what the banner shows."""
        if not hasattr(self, "_health"):
            health = api.clock_health(now=self.now)
            health["ago"] = self.relative(health["last_tick"])
            health["when"] = self.local_time(health["last_tick"])
            self._health = health
        return self._health

    @property
    def site_path(self):
        return "/".join(self.context.getPhysicalPath())

    @property
    def clock_snippet(self):
        return (
            "%import collective.crontab\n"
            "<clock-server tick>\n"
            f"  method {self.site_path}/@@crontab-tick\n"
            "  period 60\n"
            "  user crontab-clock\n"
            "</clock-server>"
        )

    @property
    def curl_line(self):
        return (
            f"curl --fail -u USER:PASSWORD http://HOST{self.site_path}/@@crontab-tick"
        )

    def job_or_404(self):
        job_id = self.request.form.get("job", "")
        try:
            return api.get_job(job_id)
        except KeyError:
            raise NotFound(
                html.escape(f"There is no cron job '{job_id}'", quote=True)
            ) from None

    def status_message(self, message, kind="info"):
        IStatusMessage(self.request).addStatusMessage(message, kind)

    def back_to_panel(self, message=None, kind="info"):
        if message is not None:
            self.status_message(message, kind)
        self.request.response.redirect(self.panel_url)
        return ""


def format_error(error):
    """A JobError's messages, one line per field."""
    return "; ".join("{}: {}".format(*item) for item in error.errors.items())


STATUS_FILTER = (("", _("All")), *display.STATUS_TITLES.items())
