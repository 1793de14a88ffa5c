"""plone.restapi services: @crontab, @crontab-health, the control panel."""
