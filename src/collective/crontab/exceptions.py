"""The exceptions of collective.crontab (no Zope imports: schedule.py uses them).

Their messages are translatable and precise: a message names the value, its
msgid (in the collective.crontab domain) has ``${name}`` placeholders, and
str() of the exception is the English text with the values filled in.
"""

from string import Template


class Text(str):
    """A msgid of the collective.crontab catalogue and the values of its
    placeholders (``mapping``), untranslated: schedule.py's ``_()`` marks it
    for ``make i18n``; the control panel translates it."""

    def __new__(cls, msgid, mapping=None):
        text = super().__new__(cls, msgid)
        text.mapping = mapping
        return text


def english(message):
    """The English text of ``message`` (a Message or text), mapping filled in."""
    if not isinstance(message, str):
        return str(message)
    mapping = getattr(message, "mapping", None) or {}
    text = getattr(message, "default", None) or message
    return Template(text).safe_substitute({
        name: english(value) for name, value in mapping.items()
    })


class ScheduleError(ValueError):
    """A cron expression or time zone that cannot be used.

    ``text`` is a Text: the msgid and its values. A new
    message is one line: ``raise ScheduleError(_("'${value}' is bad"),
    value=value)``.
    """

    def __init__(self, text, **mapping):
        self.text = Text(text, mapping)
        super().__init__(english(self.text))


class JobError(ValueError):
    """A job definition that cannot be stored or run.

    ``errors`` maps field names to messages: collective.crontab Messages,
    ``_("'${value}' is bad", mapping={"value": value})``, or text.
    ``messages`` keeps them for translation; ``errors`` holds their English
    text, which str() joins, naming the job and the fields.
    """

    def __init__(self, job_id, errors):
        self.job_id = job_id
        self.messages = dict(errors)
        self.errors = {name: english(text) for name, text in self.messages.items()}
        details = "; ".join(f"{name}: {text}" for name, text in self.errors.items())
        super().__init__(f"Cron job '{job_id}': {details}")


class NotInstalled(RuntimeError):
    """collective.crontab is not installed in this site."""


class NestedTick(RuntimeError):
    """A tick (or run-now) started inside a job's run."""
