"""The exceptions of collective.crontab (no Zope imports: schedule.py uses them)."""


class ScheduleError(ValueError):
    """A cron expression or time zone that cannot be used."""


class JobError(ValueError):
    """A job definition that cannot be stored or run.

    ``errors`` maps field names to messages; str() names the job and fields.
    """

    def __init__(self, job_id, errors):
        self.job_id = job_id
        self.errors = dict(errors)
        details = "; ".join(f"{name}: {text}" for name, text in self.errors.items())
        super().__init__(f"Cron job '{job_id}': {details}")


class NotInstalled(RuntimeError):
    """collective.crontab is not installed in this site."""
