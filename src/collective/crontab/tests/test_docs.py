"""The Python examples of the documentation (docs/*.rst), run as tests."""

from collective.crontab.testing import FUNCTIONAL_TESTING
from pathlib import Path
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from plone.testing import layered

import doctest
import unittest


DOCS = Path(__file__).resolve().parents[4] / "docs"
#: The pages with executed examples.
PAGES = ("api.rst",)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def set_up(test):
    setRoles(test.globs["layer"]["portal"], TEST_USER_ID, ["Manager"])


def test_suite():
    suite = unittest.TestSuite()
    for page in PAGES:
        pages = doctest.DocFileSuite(
            str(DOCS / page), module_relative=False, optionflags=FLAGS, setUp=set_up
        )
        suite.addTest(layered(pages, layer=FUNCTIONAL_TESTING))
    return suite
