"""What every page of the panel shares: the clock health banner, URLs,
and the current job."""

from collective.crontab import _
from collective.crontab import api
from collective.crontab import owners
from collective.crontab.controlpanel import display
from collective.crontab.schedule import utcnow
from plone.protect.utils import addTokenToUrl
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from Products.statusmessages.interfaces import IStatusMessage
from urllib.parse import urlencode
from zExceptions import BadRequest
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

    def format_error(self, error):
        """A JobError's messages, translated, one line per field."""
        return "; ".join(
            f"{name}: {self.translate(message)}"
            for name, message in error.messages.items()
        )

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

    @property
    def b_start(self):
        """The batch start of the query; 400 unless a whole number >= 0."""
        raw = self.request.form.get("b_start") or 0
        if isinstance(raw, int) and raw >= 0:
            return raw
        if not isinstance(raw, str) or not raw.isdigit():
            raise BadRequest(
                html.escape(f"b_start must be a whole number, not {raw!r}", quote=True)
            )
        return int(raw)

    def runs_as(self, job):
        """Who ``job`` runs as, for people."""
        return self.translate(owners.describe(job["owner"]))

    def runs_as_message(self, job):
        return _("It runs as ${owner}.", mapping={"owner": self.runs_as(job)})

    def status_message(self, message, kind="info"):
        IStatusMessage(self.request).addStatusMessage(message, kind)

    def back_to_panel(self, message=None, kind="info", then=None):
        """Redirect to the job list with ``message`` (and ``then`` after it,
        in the same status message)."""
        if message is not None:
            if then is not None:
                message = f"{self.translate(message)} {self.translate(then)}"
            self.status_message(message, kind)
        self.request.response.redirect(self.panel_url)
        return ""


STATUS_FILTER = (("", _("All")), *display.STATUS_TITLES.items())
