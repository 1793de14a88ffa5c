"""A job's fields are listed once, in ICronJob: the docs follow it."""

from collective.crontab.jobs import FIELDS
from pathlib import Path

import re
import unittest


JOBS_RST = Path(__file__).parents[4] / "docs" / "jobs.rst"


class TestFieldsDeclaredOnce(unittest.TestCase):
    def test_the_docs_field_table_lists_every_field_in_schema_order(self):
        table = re.search(
            r"^(=+ +=+)\nfield +meaning\n\1\n(.*?)\n\1$",
            JOBS_RST.read_text(),
            re.S | re.M,
        ).group(2)
        names = [line.split()[0] for line in table.splitlines() if line[:1] != " "]
        self.assertEqual(names, list(FIELDS))
