"""What the buttons of the job list do. Every change is a POST carrying
plone.protect's authenticator; a GET only shows a confirmation."""

from collective.crontab import _
from collective.crontab import api
from collective.crontab.controlpanel.base import PanelMixin
from collective.crontab.controlpanel.display import STATUS_TITLES
from collective.crontab.exceptions import JobError
from collective.crontab.state import Via
from collective.crontab.status import Status
from datetime import timedelta
from plone.protect import CheckAuthenticator
from plone.protect import PostOnly
from Products.Five.browser import BrowserView
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from zope.i18nmessageid import Message


class JobAction(PanelMixin, BrowserView):
    """A POST on one job (``job`` in the form); redirects to the list."""

    #: Whether the action's message is followed by who the job runs as.
    tells_owner = False

    def __call__(self):
        PostOnly(self.request)
        CheckAuthenticator(self.request)
        job = self.job_or_404()
        message, kind = self.act(job)
        runs_as = self.runs_as_message(job) if self.tells_owner else None
        return self.back_to_panel(message, kind, then=runs_as)


class ToggleJob(JobAction):
    """@@crontab-toggle: enable a disabled job, disable an enabled one."""

    def act(self, job):
        enabled = not job["enabled"]
        try:
            api.update_job(job["id"], enabled=enabled, via=Via.PANEL)
        except JobError as error:
            return self.format_error(error), "error"
        mapping = {"title": job["title"]}
        self.tells_owner = enabled
        if enabled:
            return _("Enabled ${title}.", mapping=mapping), "info"
        return _("Disabled ${title}.", mapping=mapping), "info"


class RevertJob(JobAction):
    """@@crontab-revert: put back the values the add-on that ships the job
    gives it; the list then no longer marks it customized."""

    def act(self, job):
        try:
            api.revert_job(job["id"], via=Via.PANEL)
        except JobError as error:
            return self.format_error(error), "error"
        return _(
            "Reverted ${title} to the shipped version.", mapping={"title": job["title"]}
        ), "info"


class RunJob(JobAction):
    """@@crontab-run: queue the job for the next tick; if no tick reached the
    site in the last 5 minutes, run it in this request instead."""

    def act(self, job):
        health = self.health
        mapping = {"title": job["title"]}
        self.tells_owner = True
        if health["healthy"]:
            api.run_now(job["id"])
            expected = max(health["last_tick"] + timedelta(seconds=60), self.now)
            mapping.update(
                when=self.local_time(expected), relative=self.relative(expected)
            )
            return (
                _(
                    "Queued ${title}: it runs at the next tick of the clock, "
                    "expected at ${when} (${relative}).",
                    mapping=mapping,
                ),
                "info",
            )
        summary = api.run_now(job["id"], immediately=True)
        ran = summary["ran"]
        if not ran:
            return (
                _(
                    "No tick reached the site in the last 5 minutes, and ${title} "
                    "could not run now: it is still running. It stays queued.",
                    mapping=mapping,
                ),
                "warning",
            )
        status = ran[0]["status"]
        mapping.update(
            status=self.translate(STATUS_TITLES[status]), message=ran[0]["message"]
        )
        kind = {Status.SUCCESS: "info", Status.WARNING: "warning"}.get(status, "error")
        return (
            _(
                "No tick reached the site in the last 5 minutes, so ${title} ran "
                "immediately, in this request: ${status}. ${message}",
                mapping=mapping,
            ),
            kind,
        )


class ConfirmAction(PanelMixin, BrowserView):
    """A GET shows the confirmation form; its POST does the action."""

    index = ViewPageTemplateFile("templates/confirm.pt")

    def __call__(self):
        self.job = self.job_or_404()
        if self.request.method != "POST":
            return self.index()
        CheckAuthenticator(self.request)
        if "form.buttons.cancel" in self.request.form:
            message = _("Nothing was deleted.")
        else:
            message = self.act(self.job)
        self.status_message(message)
        self.request.response.redirect(self.done_url())
        return ""

    @property
    def runs_as_text(self):
        return self.translate(self.runs_as_message(self.job))

    @property
    def question_text(self):
        return self.translate(
            Message(self.question, mapping={"title": self.job["title"]})
        )

    def done_url(self):
        return self.panel_url


class DeleteJob(ConfirmAction):
    """@@crontab-delete: remove a job, its state and its history."""

    title = _("Delete cron job")
    question = _(
        "Delete the job ${title} and all of its history? This cannot be undone."
    )
    button = _("Delete job")

    def act(self, job):
        api.delete_job(job["id"], via=Via.PANEL)
        return _("Deleted ${title}.", mapping={"title": job["title"]})


class ClearHistory(ConfirmAction):
    """@@crontab-clear-history: delete every recorded run of a job."""

    title = _("Delete history")
    question = _("Delete every recorded run of ${title}? This cannot be undone.")
    button = _("Delete history")

    def done_url(self):
        return self.page_url("history", self.job["id"])

    def act(self, job):
        api.clear_history(job["id"])
        return _("Deleted the history of ${title}.", mapping={"title": job["title"]})
