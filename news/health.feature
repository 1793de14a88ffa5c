Health check for monitors: ``@@crontab-health`` and ``@crontab-health`` answer 200 or 503 (clock ticking, no enabled job late), details only for managers of cron jobs.
