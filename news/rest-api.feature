REST API for Volto and headless sites: ``@crontab`` (list, show with batched history, add, edit, delete, run now) and the control panel in ``@controlpanels``.
