``crontab-ctl -C etc/zope.conf list|show|run|tick|enable|disable|history``: the crontab from the shell, through the instance's zope.conf.
