"""Run statuses are names of collective.crontab.status.Status, never text."""

from collective.crontab.status import RunResult
from collective.crontab.status import Status
from pathlib import Path

import ast
import unittest


PACKAGE = Path(__file__).resolve().parents[1]
BENCH = PACKAGE.parents[2] / "bench"
#: The same words meaning something else: Bootstrap's colour classes and
#: the kinds of Plone's status messages.
OTHER_MEANINGS = {
    "controlpanel/display.py": {"success", "warning"},
    "controlpanel/actions.py": {"warning"},
}


def literals(path):
    """(line, text) of every string constant in the Python file ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


class TestNoStatusLiterals(unittest.TestCase):
    def test_no_module_spells_a_status_out(self):
        statuses = {status.value for status in Status}
        found = []
        files = [*PACKAGE.rglob("*.py"), *BENCH.glob("*.py")]
        for path in files:
            name = (
                path.relative_to(PACKAGE).as_posix()
                if PACKAGE in path.parents
                else path.name
            )
            if name == "status.py" or name.startswith("tests/"):
                continue
            allowed = OTHER_MEANINGS.get(name, set())
            found += [
                f"{name}:{line}: {text!r}"
                for line, text in literals(path)
                if text in statuses and text not in allowed
            ]
        self.assertEqual(found, [])

    def test_the_check_finds_a_literal(self):
        self.assertIn("failure", dict(literals(Path(__file__))).values())


class TestStatus(unittest.TestCase):
    def test_stored_text_reads_back(self):
        self.assertIs(Status("warning"), Status.WARNING)
        self.assertEqual(str(Status.WARNING), "warning")

    def test_runs_and_ledger_entries(self):
        self.assertEqual(
            [status for status in Status if status.ran],
            [Status.SUCCESS, Status.WARNING, Status.FAILURE, Status.ABANDONED],
        )
        self.assertFalse(Status.SKIPPED.ran)
        self.assertTrue(Status.WARNING.succeeded)
        self.assertTrue(Status.ABANDONED.failed)
        self.assertFalse(Status.MISSED.failed)

    def test_codes_are_distinct_and_read_back(self):
        codes = [status.code for status in Status]
        self.assertEqual(len(set(codes)), len(codes))
        self.assertEqual([Status.from_code(code) for code in codes], list(Status))

    def test_run_result_takes_only_success_or_warning(self):
        self.assertIs(RunResult("warning", "disk full").status, Status.WARNING)
        with self.assertRaises(ValueError):
            RunResult("failure")
