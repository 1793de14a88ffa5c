"""Test layers: a Plone site with collective.crontab installed."""

from plone.app.testing import applyProfile
from plone.app.testing import FunctionalTesting
from plone.app.testing import IntegrationTesting
from plone.app.testing import PLONE_FIXTURE
from plone.app.testing import PLONE_SITE_ID
from plone.app.testing import PloneSandboxLayer
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_ID
from plone.app.testing import TEST_USER_NAME
from plone.app.testing import TEST_USER_PASSWORD
from plone.testing.zope import login
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


class DemoSiteLayer(PloneSandboxLayer):
    """The test site rebuilt by instance.py's ``add_site``, exactly as
    ``make run`` builds the demo site (Classic UI profiles, example
    content), plus the test user."""

    defaultBases = (FIXTURE,)

    def setUpZope(self, app, configurationContext):
        from collective.crontab.instance import add_site

        app.manage_delObjects([PLONE_SITE_ID])
        login(app["acl_users"], SITE_OWNER_NAME)
        users = add_site(app, PLONE_SITE_ID).acl_users
        users.source_users.addUser(TEST_USER_ID, TEST_USER_NAME, TEST_USER_PASSWORD)
        users.portal_role_manager.doAssignRoleToPrincipal(TEST_USER_ID, "Member")


DEMO_FIXTURE = DemoSiteLayer()


class DemoHTTPServer(HTTPServer):
    port = listen_port(401)


DEMO_HTTP_TESTING = FunctionalTesting(
    bases=(DEMO_FIXTURE, DemoHTTPServer(name="collective.crontab:DemoHTTPServer")),
    name="collective.crontab:DemoHTTP",
)
