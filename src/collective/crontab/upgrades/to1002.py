"""1001 -> 1002: cron means what Debian's cron means (issue 11). Nothing is
rewritten: the step logs, as a WARNING naming the job and its expression,
every stored job whose schedule now means something else or is invalid, so
that integrators can check them."""

from collective.crontab import logger
from collective.crontab.exceptions import ScheduleError
from collective.crontab.jobs import job_ids
from collective.crontab.jobs import read_job
from collective.crontab.schedule import normalize
from collective.crontab.schedule import schedule_for
from datetime import datetime
from datetime import UTC
from zoneinfo import ZoneInfo


def changes(expression, zone):
    """Why ``expression`` in the zone named ``zone`` does not mean what it
    meant before 1002: a list of reasons, empty if it means the same."""
    try:
        normal = normalize(expression)
        schedule_for(normal, zone)
    except ScheduleError as error:
        return [f"is invalid now: {error}"]
    minute, hour, day, _month, weekday = normal.split()
    reasons = []
    if day != "*" and weekday != "*":
        if day.startswith("*") or weekday.startswith("*"):
            reasons.append(
                "runs on days matching both day fields now (a day field "
                "starts with '*'), not on days matching either"
            )
        elif "#" in weekday or "L" in weekday:
            reasons.append(
                "runs on days matching either day field now, '#' and 'L' included"
            )
    if any(
        step.split("/")[0] not in ("*", "")
        for step in weekday.split(",")
        if "/" in step
    ):
        reasons.append("steps through the days of the week up to 7 (Sunday) now")
    fixed_before = minute.isdigit() and hour.replace(",", "").isdigit()
    fixed_now = not minute.startswith("*") and not hour.startswith("*")
    if fixed_before != fixed_now and _has_dst(zone):
        reasons.append(
            "runs at fixed times through DST changes now (once at the end of "
            "a gap, only the first time through a repeated hour)"
            if fixed_now
            else "keeps its cadence through DST changes now"
        )
    return reasons


def _has_dst(zone):
    tz = ZoneInfo(zone)
    year = datetime.now(UTC).year
    offsets = {
        datetime(year, month, 1, tzinfo=UTC).astimezone(tz).utcoffset()
        for month in range(1, 13)
    }
    return len(offsets) > 1


def log_changed_schedules(setup_tool):
    """Log every job whose schedule changes meaning or became invalid."""
    count = 0
    for job_id in job_ids():
        job = read_job(job_id)
        try:
            ZoneInfo(job.zone)
        except (ValueError, KeyError):
            continue  # an unknown zone is reported as it always was
        for reason in changes(job.schedule, job.zone):
            count += 1
            logger.warning(
                "Cron job '%s': its schedule '%s' (%s) %s",
                job_id,
                job.schedule,
                job.zone,
                reason,
            )
    logger.info("Checked the schedules of the cron jobs: %d changes", count)
