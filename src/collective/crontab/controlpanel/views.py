"""The job list and the history of one job."""

from collective.crontab import _
from collective.crontab import api
from collective.crontab.controlpanel import display
from collective.crontab.controlpanel.base import PanelMixin
from collective.crontab.controlpanel.base import STATUS_FILTER
from collective.crontab.exceptions import ScheduleError
from collective.crontab.exceptions import Text
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import ICronRunner
from collective.crontab.status import Status
from collective.crontab.words import describe
from functools import lru_cache
from plone.batching import Batch
from plone.batching.browser import PloneBatchView
from Products.Five.browser import BrowserView
from zope.component import queryUtility
from zope.i18n import translate
from zope.i18nmessageid import Message


JOBS_PER_PAGE = 50
RUNS_PER_PAGE = 50
CHANGES_PER_PAGE = 20
EMPTY = "\u2014"  # an empty value in the change log


@lru_cache(maxsize=2000)
def in_words(expression, locale):
    """The schedule ``expression`` in words in the language ``locale``."""
    try:
        return translated(describe(expression), locale)
    except ScheduleError:
        return ""


def translated(text, language):
    """A Text in ``language``, its values first (zope.i18n refuses a msgid
    that comes twice in one message's values)."""
    if not isinstance(text, Text):
        return str(text)
    values = text.mapping or {}
    mapping = {name: translated(value, language) for name, value in values.items()}
    return translate(_(str(text), mapping=mapping), target_language=language)


class Page(list):
    """One page of a longer sequence, for plone.batching."""

    def __init__(self, items, total):
        super().__init__(items)
        self.actual_result_count = total


class JobListView(PanelMixin, BrowserView):
    """@@crontab-controlpanel: every job, a page at a time. Reads each
    listed job's registry records and its small state object (last run and
    the last 20 runs), never the run history."""

    def __call__(self):
        self.b_start  # noqa: B018 -- a bad b_start is 400 before rendering
        return self.index()

    @property
    def batch(self):
        if not hasattr(self, "_batch"):
            self._batch = Batch(api.job_ids(), JOBS_PER_PAGE, self.b_start)
        return self._batch

    def batching(self):
        return PloneBatchView(self.context, self.request)(self.batch)

    def rows(self):
        locale = (self.request.get("LANGUAGE") or "en")[:2]
        return [self.row(api.get_job(job_id), locale) for job_id in self.batch]

    def row(self, job, locale):
        runner = queryUtility(ICronRunner, name=job["runner"])
        last = job["last_run"]
        zone = self.site_zone
        return {
            "id": job["id"],
            "title": job["title"],
            "schedule": job["schedule"],
            "words": in_words(job["schedule"], locale),
            "timezone": job["effective_timezone"],
            "site_timezone": not job["timezone"],
            "runner": runner.title if runner is not None else job["runner"],
            "runner_missing": runner is None,
            "owner": self.runs_as(job),
            "enabled": job["enabled"],
            "customized": bool(job["customized"]),
            "orphaned": job["orphaned"],
            "changes_url": self.page_url("changes", job["id"]),
            "error": job.get("error"),
            "running": job["running"],
            "queued": job["queued"],
            "next_run": self.local_time(job["next_run"]),
            "next_run_relative": self.relative(job["next_run"]),
            "last_status": last and last["status"],
            "last_colour": last and display.STATUS_COLOURS[last["status"]],
            "last_title": last and display.STATUS_TITLES[last["status"]],
            "last_when": last and self.local_time(last["started"]),
            "last_relative": last and self.relative(last["started"]),
            "last_duration": last and display.duration(last["duration"]),
            "last_message": last and last["message"],
            "strip": display.strip(job["recent"], zone),
            "edit_url": self.page_url("edit", job["id"]),
            "history_url": self.page_url("history", job["id"]),
            "delete_url": self.page_url("delete", job["id"]),
        }


class HistoryView(PanelMixin, BrowserView):
    """@@crontab-history?job=<id>: the runs of one job, newest first."""

    status_filter = STATUS_FILTER

    def update(self):
        self.job = self.job_or_404()
        status = self.request.form.get("status") or None
        self.status = Status(status) if status in tuple(Status) else None
        start = self.b_start
        total = api.count_runs(self.job["id"], self.status)
        runs = api.history(
            self.job["id"], limit=RUNS_PER_PAGE, start=start, status=self.status
        )
        self.batch = Batch(Page(runs, total), RUNS_PER_PAGE, start)

    def __call__(self):
        self.update()
        return self.index()

    def batching(self):
        return PloneBatchView(self.context, self.request)(self.batch)

    def runs(self):
        zone = self.site_zone
        for run in self.batch:
            yield dict(
                run,
                colour=display.STATUS_COLOURS[run["status"]],
                label=display.STATUS_TITLES[run["status"]],
                started_local=display.local_time(run["started"], zone),
                finished_local=display.local_time(run["finished"], zone),
                relative=self.relative(run["started"]),
                duration_text=display.duration(run["duration"]),
            )

    @property
    def title(self):
        return _("History of ${title}", mapping={"title": self.job["title"]})


class ChangesView(PanelMixin, BrowserView):
    """@@crontab-changes?job=<id>: who changed the job, how, newest first;
    for a job an add-on ships, what the shipped version says."""

    def __call__(self):
        self.job = self.job_or_404()
        start = int(self.request.form.get("b_start", 0) or 0)
        self.batch = Batch(api.changes(self.job["id"]), CHANGES_PER_PAGE, start)
        return self.index()

    def batching(self):
        return PloneBatchView(self.context, self.request)(self.batch)

    def text(self, value):
        text = display.value_text(value)
        return self.translate(text) if isinstance(text, Message) else text

    def label(self, name):
        return self.translate(ICronJob[name].title) if name in ICronJob else name

    def entries(self):
        for entry in self.batch:
            yield {
                "when": self.local_time(entry["when"]),
                "relative": self.relative(entry["when"]),
                "who": entry["who"],
                "via": entry["via"],
                "via_title": self.translate(display.VIA_TITLES[entry["via"]]),
                "note": entry["note"],
                "fields": [
                    {
                        "name": item["field"],
                        "label": self.label(item["field"]),
                        "old": self.text(item["old"]) or EMPTY,
                        "new": self.text(item["new"]) or EMPTY,
                        "added": item["old"] is None,
                    }
                    for item in entry["fields"]
                    if item["old"] is not None or self.text(item["new"])
                ],
            }

    def customized(self):
        """The fields changed here: this site's value and the shipped one."""
        shipped = self.job["shipped"] or {}
        return [
            {
                "name": name,
                "label": self.label(name),
                "here": self.text(self.job[name]) or EMPTY,
                "shipped": self.text(shipped.get(name)) or EMPTY,
            }
            for name in self.job["customized"]
        ]

    @property
    def title(self):
        return _("Changes of ${title}", mapping={"title": self.job["title"]})
