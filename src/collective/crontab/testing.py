"""Test layers: a Plone site with collective.crontab installed."""

from plone.app.testing import applyProfile
from plone.app.testing import FunctionalTesting
from plone.app.testing import IntegrationTesting
from plone.app.testing import PLONE_FIXTURE
from plone.app.testing import PloneSandboxLayer
from plone.testing.zope import WSGIServer

import os


# Compile locales/*.po to .mo when the ZCML registers the translations.
os.environ.setdefault("zope_i18n_compile_mo_files", "true")

#: The tests listen on 127.0.0.1, on ports from here to here + 999: set
#: CRONTAB_TEST_PORTS to run two test runs on one machine at once.
PORTS = int(os.environ.get("CRONTAB_TEST_PORTS", "55100"))


def listen_port(offset):
    """The port ``offset`` of the test run's range."""
    return PORTS + offset


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


class HTTPServer(WSGIServer):
    """A real WSGI server on 127.0.0.1, for tests over HTTP and chromium."""

    host = "127.0.0.1"
    port = listen_port(400)


HTTP_TESTING = FunctionalTesting(
    bases=(FIXTURE, HTTPServer(name="collective.crontab:HTTPServer")),
    name="collective.crontab:HTTP",
)
