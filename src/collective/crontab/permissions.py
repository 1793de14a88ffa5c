"""Permission names (titles, as Zope checks them)."""

ManageJobs = "collective.crontab: Manage cron jobs"
RunTick = "collective.crontab: Run tick"
