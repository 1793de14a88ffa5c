"""Add and edit forms of a cron job (z3c.form)."""

from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from collective.crontab import _
from collective.crontab import api
from collective.crontab import owners
from collective.crontab.controlpanel import display
from collective.crontab.controlpanel.base import PanelMixin
from collective.crontab.controlpanel.preview import preview
from collective.crontab.controlpanel.views import in_words
from collective.crontab.exceptions import JobError
from collective.crontab.exceptions import ScheduleError
from collective.crontab.interfaces import ICronJobForm
from collective.crontab.interfaces import ICronRunner
from collective.crontab.jobs import schedule_message
from collective.crontab.state import Via
from plone.app.registry.browser.controlpanel import ControlPanelFormWrapper
from plone.z3cform import layout
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from z3c.form import button
from z3c.form import field
from z3c.form import form
from z3c.form.interfaces import IErrorViewSnippet
from z3c.form.widget import SequenceWidget
from zope.component import getMultiAdapter
from zope.component import getUtilitiesFor
from zope.interface import Invalid


NO_VALUE = SequenceWidget.noValueToken


class JobForm(PanelMixin, form.Form):
    """What the add and edit forms share: fields, buttons, error mapping
    and the schedule preview."""

    enableCSRFProtection = True
    schedule_preview = None

    @property
    def is_manager(self):
        return getSecurityManager().getUser().has_role("Manager", self.context)

    @property
    def description(self):
        if self.is_manager:
            return None
        return _(
            "The job runs with the rights of the user who saves it: you (${user}).",
            mapping={"user": self.translate(owners.describe(self.editor))},
        )

    @property
    def editor(self):
        """The current user as an owner value."""
        return owners.current_owner(self.context) or ""

    @property
    def fields(self):
        names = [name for name in api.FIELDS if name != "owner" or self.is_manager]
        fields = field.Fields(ICronJobForm).select("id", *names)
        if "owner" in fields:
            fields["owner"].field = fields["owner"].field.bind(self.context)
        return fields

    def updateWidgets(self):
        super().updateWidgets()
        self.widgets["timezone"].noValueMessage = self.translate(
            _("The site's time zone (${zone})", mapping={"zone": self.site_zone})
        )
        self.widgets["schedule"].addClass("font-monospace")
        owner = self.widgets.get("owner")
        if owner is not None and not owner.value and self.job_id is None:
            owner.value = self.editor

    def update(self):
        super().update()
        if self.schedule_preview is None and not self.widgets.errors:
            self.show_preview(self.initial_schedule())

    def initial_schedule(self):
        return None

    def show_preview(self, values):
        """Set the preview of ``values`` (schedule, timezone) if valid."""
        if not values or not values[0]:
            return
        expression, zone = values
        try:
            runs, warnings = preview(expression, zone or self.site_zone, self.now)
        except ScheduleError:
            return
        self.schedule_preview = {
            "words": in_words(expression, (self.request.get("LANGUAGE") or "en")[:2]),
            "zone": zone or self.site_zone,
            "runs": [
                {
                    "local": display.local_time(run, zone or self.site_zone),
                    "site": self.local_time(run),
                    "relative": self.relative(run),
                }
                for run in runs
            ],
            "warnings": [self.dst_message(warning) for warning in warnings],
        }

    def dst_message(self, warning):
        transition = warning.transition
        mapping = {
            "date": transition.start.strftime("%Y-%m-%d"),
            "time": warning.wall_time.strftime("%H:%M"),
            "start": transition.start.strftime("%H:%M"),
            "end": transition.end.strftime("%H:%M"),
        }
        if transition.gap and warning.fixed_time:
            text = _(
                "On ${date} the clocks jump from ${start} to ${end}: ${time} "
                "does not exist, so the job runs at ${end} instead. This job "
                "runs at fixed times, as neither its minute nor its hour field "
                "starts with '*'.",
                mapping=mapping,
            )
        elif transition.gap:
            text = _(
                "On ${date} the clocks jump from ${start} to ${end}: the runs "
                "between them do not happen. This job keeps its cadence, as its "
                "minute or hour field starts with '*'.",
                mapping=mapping,
            )
        elif warning.fixed_time:
            text = _(
                "On ${date} the hour from ${start} to ${end} happens twice: the "
                "job runs at ${time} only the first time. This job runs at "
                "fixed times, as neither its minute nor its hour field starts "
                "with '*'.",
                mapping=mapping,
            )
        else:
            text = _(
                "On ${date} the hour from ${start} to ${end} happens twice: the "
                "job runs through it twice. This job keeps its cadence, as its "
                "minute or hour field starts with '*'.",
                mapping=mapping,
            )
        return self.translate(text)

    def values(self, data):
        values = {name: value for name, value in data.items() if name != "id"}
        values["timezone"] = values.get("timezone") or ""
        values["arguments"] = dict(values.get("arguments") or {})
        values["owner"] = values.get("owner") or ""
        values["notify"] = [line for line in values.get("notify") or [] if line.strip()]
        values["ping_url"] = values.get("ping_url") or ""
        if not self.is_manager:
            del values["owner"]
        return values

    def show_errors(self, errors):
        """Put each of ``errors`` (field name -> message) on its widget."""
        content = self.getContent()
        unplaced = []
        for name, message in errors.items():
            message = self.translate(message)
            widget = self.widgets.get(name)
            if widget is None:
                unplaced.append(f"{name}: {message}")
                continue
            snippet = getMultiAdapter(
                (Invalid(message), self.request, widget, widget.field, self, content),
                IErrorViewSnippet,
            )
            snippet.update()
            widget.error = snippet
            self.widgets.errors += (snippet,)
        self.status = self.formErrorsMessage
        if unplaced:
            self.status = "{} {}".format(
                self.translate(self.formErrorsMessage),
                "; ".join(unplaced),
            )

    def save(self, job_id, values):
        raise NotImplementedError

    @button.buttonAndHandler(_("Save"), name="save")
    def handle_save(self, action):
        data, errors = self.extractData()
        if errors:
            self.status = self.formErrorsMessage
            return
        job_id = data.get("id") or self.job_id
        values = self.values(data)
        self.show_preview((values["schedule"], values["timezone"]))
        try:
            job = self.save(job_id, values)
        except JobError as error:
            self.show_errors(error.messages)
            return
        except Unauthorized as error:
            self.show_errors({"owner": str(error)})
            return
        if job.get("owner_changed"):
            runs_as = _(
                "You changed what ${title} does, so it now runs as you (${owner}).",
                mapping={"title": job["title"], "owner": self.runs_as(job)},
            )
        else:
            runs_as = self.runs_as_message(job)
        saved = _("Saved ${title}.", mapping={"title": job["title"]})
        self.back_to_panel(saved, then=runs_as)

    @button.buttonAndHandler(_("Preview schedule"), name="preview")
    def handle_preview(self, action):
        """Preview the schedule as typed; other fields are not checked yet."""
        schedule = (self.widgets["schedule"].value or "").strip()
        tokens = [
            token for token in self.widgets["timezone"].value if token != NO_VALUE
        ]
        zone = tokens[0] if tokens else ""
        if not schedule:
            self.show_errors({"schedule": _("Type a schedule to preview.")})
            return
        try:
            preview(schedule, zone or self.site_zone, self.now)
        except ScheduleError as error:
            field_name = "timezone" if "time zone" in str(error) else "schedule"
            self.show_errors({field_name: schedule_message(error)})
            return
        self.show_preview((schedule, zone))

    @button.buttonAndHandler(_("Cancel"), name="cancel")
    def handle_cancel(self, action):
        self.back_to_panel(_("Nothing was changed."))

    def updateActions(self):
        super().updateActions()
        self.actions["save"].addClass("btn-primary")
        self.actions["preview"].addClass("btn-secondary")
        self.actions["cancel"].addClass("btn-secondary")

    def runners(self):
        """Registered runners with their descriptions, by title."""
        found = [
            {
                "name": name,
                "title": self.translate(runner.title),
                "description": self.translate(runner.description),
            }
            for name, runner in getUtilitiesFor(ICronRunner)
        ]
        return sorted(found, key=lambda runner: runner["title"].lower())


class AddJobForm(JobForm):
    label = _("Add a cron job")
    ignoreContext = True
    job_id = None

    def save(self, job_id, values):
        return api.add_job(job_id, **values, via=Via.PANEL)


class EditJobForm(JobForm):
    @property
    def label(self):
        return _("Edit ${title}", mapping={"title": self.job["title"]})

    @property
    def description(self):
        mapping = {"owner": self.runs_as(self.job)}
        if self.is_manager:
            return self.runs_as_message(self.job)
        return _(
            "It runs as ${owner}. If you change its runner or arguments, it "
            "runs as you (${user}).",
            mapping=dict(mapping, user=self.translate(owners.describe(self.editor))),
        )

    def update(self):
        self.job = self.job_or_404()
        self.job_id = self.job["id"]
        super().update()

    @property
    def action(self):
        return self.page_url("edit", self.job_id)

    @property
    def fields(self):
        return super().fields.omit("id")

    def getContent(self):
        content = {name: self.job[name] for name in api.FIELDS}
        content["timezone"] = content["timezone"] or None
        content["ping_url"] = content["ping_url"] or None
        return content

    def initial_schedule(self):
        return (self.job["schedule"], self.job["timezone"])

    def save(self, job_id, values):
        return api.update_job(job_id, **values, via=Via.PANEL)


class JobFormWrapper(PanelMixin, ControlPanelFormWrapper):
    index = ViewPageTemplateFile("templates/form.pt")


AddJobView = layout.wrap_form(AddJobForm, JobFormWrapper)
EditJobView = layout.wrap_form(EditJobForm, JobFormWrapper)
