from collective.crontab import api
from collective.crontab.interfaces import IBrowserLayer
from collective.crontab.state import ANNOTATION_KEY
from collective.crontab.testing import INTEGRATION_TESTING
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.base.utils import get_installer
from plone.browserlayer.utils import registered_layers
from plone.registry.interfaces import IRegistry
from zope.annotation.interfaces import IAnnotations
from zope.component import getUtility

import unittest


class TestInstall(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.installer = get_installer(self.portal, self.layer["request"])

    def test_installed(self):
        self.assertTrue(self.installer.is_product_installed("collective.crontab"))

    def test_browserlayer(self):
        self.assertIn(IBrowserLayer, registered_layers())

    def test_run_log_created_at_install(self):
        crontab = IAnnotations(self.portal)[ANNOTATION_KEY]
        self.assertEqual(len(crontab.states), 0)
        self.assertEqual(crontab.version(), 0)

    def test_permissions_granted_to_manager_and_site_administrator(self):
        for permission in (
            "collective.crontab: Manage cron jobs",
            "collective.crontab: Run tick",
        ):
            roles = {
                role["name"]
                for role in self.portal.rolesOfPermission(permission)
                if role["selected"]
            }
            self.assertEqual(roles, {"Manager", "Site Administrator"}, permission)

    def test_controlpanel_entry(self):
        controlpanel = self.portal.portal_controlpanel
        actions = {action.getId(): action for action in controlpanel.listActions()}
        self.assertIn("crontab-controlpanel", actions)
        self.assertEqual(
            actions["crontab-controlpanel"].permissions,
            ("collective.crontab: Manage cron jobs",),
        )


class TestUninstall(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        api.add_job("nightly", title="Nightly", runner="test.record", schedule="@daily")
        self.installer = get_installer(self.portal, self.layer["request"])
        self.installer.uninstall_product("collective.crontab")

    def test_uninstalled(self):
        self.assertFalse(self.installer.is_product_installed("collective.crontab"))

    def test_browserlayer_removed(self):
        self.assertNotIn(IBrowserLayer, registered_layers())

    def test_job_records_removed(self):
        registry = getUtility(IRegistry)
        names = list(
            registry.records.keys("collective.crontab.", "collective.crontab/")
        )
        self.assertEqual(names, [])

    def test_annotation_removed(self):
        self.assertNotIn(ANNOTATION_KEY, IAnnotations(self.portal))

    def test_controlpanel_entry_removed(self):
        ids = [
            action.getId() for action in self.portal.portal_controlpanel.listActions()
        ]
        self.assertNotIn("crontab-controlpanel", ids)
