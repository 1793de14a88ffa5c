"""The demo site that ``make run`` builds (instance.py) looks like Plone
6.2's Classic UI: the Barceloneta theme is installed and served."""

from collective.crontab.tests.test_clock_server import get
from collective.crontab.tests.test_clock_server import PORT
from collective.crontab.tests.test_clock_server import RUNNING

import re
import unittest


class DemoSiteTests(unittest.TestCase):
    layer = RUNNING

    def test_the_site_links_the_barceloneta_stylesheet_and_serves_it(self):
        # As `make run` tells: localhost (Plone leaves 127.0.0.1 unthemed).
        status, _headers, body = get("/Plone", headers={"Host": f"localhost:{PORT}"})
        self.assertEqual(status, 200)
        links = re.findall(
            r'<link[^>]+href="http://localhost:\d+(/[^"]*barceloneta[^"]*\.css)"',
            body.decode(),
        )
        self.assertTrue(links, "no Barceloneta stylesheet linked")
        for path in links:
            status, headers, css = get(path)
            self.assertEqual((status, headers["Content-Type"][:8]), (200, "text/css"))
            self.assertGreater(len(css), 100000, path)
