Cron jobs as plone.registry records (``ICronJob``), shippable in an add-on's
``registry.xml`` and validated on import; the tick view ``@@crontab-tick``;
the run log; the Python API ``collective.crontab.api``; runners
``collective.crontab.pack``, ``collective.crontab.call-view`` and
``collective.crontab.content-count``.
