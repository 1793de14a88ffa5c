from collective.crontab import _
from plone.restapi.controlpanels import IControlpanel
from zope import schema
from zope.interface import Attribute
from zope.interface import Interface
from zope.publisher.interfaces.browser import IDefaultBrowserLayer
from zope.schema.vocabulary import SimpleTerm
from zope.schema.vocabulary import SimpleVocabulary


JOBS_PREFIX = "collective.crontab.jobs"


class IBrowserLayer(IDefaultBrowserLayer):
    """Marker for requests on a site with collective.crontab installed."""


class ICronJob(Interface):
    """One cron job: the records under ``collective.crontab.jobs/<job-id>``.

    The order of the fields here is their order in the control panel's
    forms, the docs' field table and ``crontab-ctl show``.
    """

    title = schema.TextLine(
        title=_("Title"),
        description=_("What the job does, as shown in the job list."),
        max_length=200,
        required=True,
    )
    runner = schema.TextLine(
        title=_("Runner"),
        description=_("Name of the runner utility that does the work."),
        required=True,
    )
    schedule = schema.TextLine(
        title=_("Schedule"),
        description=_(
            "A cron expression with five fields (minute hour day-of-month "
            "month day-of-week), or @hourly, @daily, @weekly, @monthly, "
            "@yearly."
        ),
        required=True,
    )
    timezone = schema.TextLine(
        title=_("Time zone"),
        description=_(
            "IANA time zone the schedule is read in, e.g. Europe/Berlin. "
            "Empty: the site's time zone."
        ),
        default="",
        required=False,
    )
    enabled = schema.Bool(
        title=_("Enabled"),
        description=_("Only enabled jobs run on schedule."),
        default=True,
        required=False,
    )
    arguments = schema.Dict(
        title=_("Arguments"),
        description=_("Settings passed to the runner, as name and value."),
        key_type=schema.TextLine(max_length=100),
        value_type=schema.TextLine(max_length=4000),
        max_length=50,
        default={},
        required=False,
    )
    catch_up = schema.Choice(
        title=_("Missed runs"),
        description=_(
            "When slots were missed (site down, clock stopped): skip them, "
            "or run once for all of them."
        ),
        values=("skip", "once"),
        default="skip",
        required=True,
    )
    owner = schema.TextLine(
        title=_("Run as"),
        description=_(
            "User id the job runs as, with that user's rights: a user of the "
            "site, or /id for a user of the Zope root. Empty: anonymous rights."
        ),
        default="",
        required=False,
    )
    max_runtime = schema.Int(
        title=_("Maximum run time (seconds)"),
        description=_(
            "A run taking longer is flagged; a run whose process died is "
            "recorded as abandoned after this time."
        ),
        default=3600,
        min=1,
        max=7 * 24 * 3600,
        required=True,
    )
    history = schema.Int(
        title=_("Runs to keep"),
        description=_("How many runs the log keeps for this job."),
        default=100,
        min=1,
        max=10000,
        required=True,
    )
    notify = schema.List(
        title=_("Notify"),
        description=_(
            "E-mail addresses told when a run fails or is abandoned: one mail "
            "per failure streak."
        ),
        value_type=schema.ASCIILine(),
        max_length=20,
        default=[],
        required=False,
    )
    notify_recovery = schema.Bool(
        title=_("Notify on recovery"),
        description=_("Also send a mail when a failing job succeeds again."),
        default=False,
        required=False,
    )
    ping_url = schema.ASCIILine(
        title=_("Ping URL"),
        description=_(
            "Base URL of a healthchecks.io or Cronitor-style check: the URL "
            "with /start is called before a run, the URL itself on success, "
            "with /fail on failure."
        ),
        max_length=2000,
        default="",
        required=False,
    )


class ICronRunner(Interface):
    """A named utility that does the work of a job."""

    title = Attribute("Short name shown in the control panel")
    description = Attribute("What the runner does and which arguments it reads")

    def __call__(site, job):
        """Do the work for ``job`` (a collective.crontab.jobs.Job) in ``site``.

        Return None, a message, or a collective.crontab.RunResult. Raise to
        fail: the runner's changes are then aborted.
        """


class ICrontabControlpanel(IControlpanel):
    """The cron jobs control panel as plone.restapi lists it."""


class ICronJobForm(ICronJob):
    """The add and edit forms of the control panel: a job and its id."""

    id = schema.ASCIILine(
        title=_("Id"),
        description=_(
            "Short name of the job, used in URLs and in the registry. Starts "
            "with a letter; letters, digits, '-' and '_'. Cannot be changed."
        ),
        required=True,
        max_length=64,
    )
    runner = schema.Choice(
        title=_("Runner"),
        description=_("What the job does: one of the runners registered in this site."),
        vocabulary="collective.crontab.Runners",
        required=True,
    )
    timezone = schema.Choice(
        title=_("Time zone"),
        description=_(
            "The time zone the schedule is read in. Empty: the site's time zone."
        ),
        vocabulary="collective.crontab.Timezones",
        required=False,
    )
    catch_up = schema.Choice(
        title=ICronJob["catch_up"].title,
        description=ICronJob["catch_up"].description,
        vocabulary=SimpleVocabulary([
            SimpleTerm("skip", "skip", _("Skip them")),
            SimpleTerm("once", "once", _("Run once to catch up")),
        ]),
        default="skip",
        required=True,
    )
    notify = schema.List(
        title=ICronJob["notify"].title,
        description=_(
            "One e-mail address per line, told when a run fails or is "
            "abandoned: one mail per failure streak."
        ),
        value_type=schema.ASCIILine(),
        default=[],
        required=False,
    )
    ping_url = schema.URI(
        title=ICronJob["ping_url"].title,
        description=ICronJob["ping_url"].description,
        required=False,
    )
