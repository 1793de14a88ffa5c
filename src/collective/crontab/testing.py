"""Test layers: a Plone site with collective.crontab installed."""

from plone.app.testing import applyProfile
from plone.app.testing import FunctionalTesting
from plone.app.testing import IntegrationTesting
from plone.app.testing import PLONE_FIXTURE
from plone.app.testing import PloneSandboxLayer
from plone.testing.zope import WSGIServer

import collective.crontab
import os


class CrontabLayer(PloneSandboxLayer):
    defaultBases = (PLONE_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import collective.crontab.tests

        self.loadZCML(package=collective.crontab)
        self.loadZCML(name="testing.zcml", package=collective.crontab.tests)

    def setUpPloneSite(self, portal):
        applyProfile(portal, "collective.crontab:default")


FIXTURE = CrontabLayer()
INTEGRATION_TESTING = IntegrationTesting(
    bases=(FIXTURE,), name="collective.crontab:Integration"
)
FUNCTIONAL_TESTING = FunctionalTesting(
    bases=(FIXTURE,), name="collective.crontab:Functional"
)


class BrowserServer(WSGIServer):
    """A real WSGI server on the fixture's database, for chromium."""

    host = "127.0.0.1"
    port = int(os.environ.get("ZSERVER_PORT", "55201"))


BROWSER_SERVER = BrowserServer(name="collective.crontab:BrowserServer")
BROWSER_TESTING = FunctionalTesting(
    bases=(FIXTURE, BROWSER_SERVER), name="collective.crontab:Browser"
)
