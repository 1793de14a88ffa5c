Control panel "Cron jobs" in Site Setup: job list with next/last runs and a
strip of recent runs, add/edit forms with schedule preview and DST warnings,
run now, history, clock health banner. [panel]
