"""Bad input: every rejected job definition raises a JobError that names
the job and the field, and nothing already stored is lost or half-written."""

from collective.crontab import api
from collective.crontab.exceptions import JobError
from collective.crontab.interfaces import ICronJob
from collective.crontab.jobs import read_job
from collective.crontab.testing import FUNCTIONAL_TESTING
from collective.crontab.testing import INTEGRATION_TESTING
from dataclasses import asdict
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import transaction
import unittest


GOOD = {"title": "Good", "runner": "test.record", "schedule": "*/5 * * * *"}


class BadInput(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])

    def assertRejected(self, field, *words, job_id="job", **fields):
        """Adding ``job_id`` with GOOD updated by ``fields`` fails on
        ``field``; the message names the job, the field and ``words``."""
        values = dict(GOOD, **fields)
        stored = read_job(job_id) if isinstance(job_id, str) and job_id else None
        with self.assertRaises(JobError) as caught:
            api.add_job(job_id, **values)
        error = caught.exception
        self.assertEqual(error.job_id, job_id)
        self.assertIn(field, error.errors)
        message = str(error)
        self.assertIn(f"Cron job '{job_id}'", message)
        self.assertIn(f"{field}: ", message)
        for word in words:
            self.assertIn(word, error.errors[field])
        if isinstance(job_id, str) and job_id:
            self.assertEqual(read_job(job_id), stored)
        return error


class TestBadSchedule(BadInput):
    def test_six_fields(self):
        self.assertRejected("schedule", "6 fields", schedule="0 * * * * *")

    def test_four_fields(self):
        self.assertRejected("schedule", "4 fields", schedule="* * * *")

    def test_reboot(self):
        self.assertRejected(
            "schedule", "'@reboot' is not supported", schedule="@reboot"
        )

    def test_unknown_alias(self):
        self.assertRejected("schedule", "'@often' is not supported", schedule="@often")

    def test_minute_60(self):
        self.assertRejected("schedule", "minute field '60'", schedule="60 * * * *")

    def test_negative_minute(self):
        self.assertRejected("schedule", "minute field '-1'", schedule="-1 * * * *")

    def test_hour_24(self):
        self.assertRejected("schedule", "hour field '24'", schedule="0 24 * * *")

    def test_day_of_month_32(self):
        self.assertRejected(
            "schedule", "day of month field '32'", schedule="0 0 32 * *"
        )

    def test_month_13(self):
        self.assertRejected("schedule", "month field '13'", schedule="0 0 1 13 *")

    def test_day_of_week_8(self):
        self.assertRejected("schedule", "day of week field '8'", schedule="0 0 * * 8")

    def test_unknown_month_name(self):
        self.assertRejected(
            "schedule", "month field 'JAN-XYZ'", schedule="0 0 1 JAN-XYZ *"
        )

    def test_sixth_weekday_of_month(self):
        self.assertRejected(
            "schedule", "day of week field '1#6'", schedule="0 0 * * 1#6"
        )

    def test_february_31_never_fires(self):
        self.assertRejected("schedule", "never fires", schedule="* * 31 2 *")

    def test_step_zero(self):
        self.assertRejected("schedule", "minute field '*/0'", schedule="*/0 * * * *")

    def test_empty_list_item(self):
        self.assertRejected("schedule", "minute field '0,,5'", schedule="0,,5 * * * *")

    def test_ten_kilobytes(self):
        self.assertRejected("schedule", "longer than 200", schedule="* " * 5120)

    def test_unicode_digits(self):
        # Arabic-Indic three: str.isdigit() says yes, cron says no.
        self.assertRejected("schedule", "ASCII", schedule="\u0663 * * * *")

    def test_fullwidth_star(self):
        self.assertRejected("schedule", "ASCII", schedule="\uff0a * * * *")

    def test_shell_command_appended(self):
        self.assertRejected("schedule", "6 fields", schedule="* * * * * rm")

    def test_empty(self):
        self.assertRejected("schedule", "is required", schedule="")

    def test_not_text(self):
        self.assertRejected("schedule", "5", schedule=5)


class TestBadTimezone(BadInput):
    def test_unknown_zone(self):
        self.assertRejected(
            "timezone",
            "'Mars/Olympus' is not a known IANA time zone",
            timezone="Mars/Olympus",
        )

    def test_wrong_case(self):
        self.assertRejected("timezone", "'europe/berlin'", timezone="europe/berlin")

    def test_offset_is_not_a_zone(self):
        self.assertRejected("timezone", "'+02:00'", timezone="+02:00")

    def test_path_traversal(self):
        self.assertRejected(
            "timezone", "not a known IANA time zone", timezone="../../etc/passwd"
        )


class TestBadRunner(BadInput):
    def test_unknown_runner(self):
        self.assertRejected(
            "runner",
            "'no.such.runner' is not a registered runner",
            runner="no.such.runner",
        )

    def test_dotted_python_name_is_not_a_runner(self):
        self.assertRejected("runner", "is not a registered runner", runner="os.system")

    def test_missing_runner(self):
        self.assertRejected("runner", "is required", runner="")


class TestBadArguments(BadInput):
    def test_not_a_mapping(self):
        self.assertRejected(
            "arguments", "mapping of text to text, not list", arguments=["days", "14"]
        )

    def test_number_value(self):
        self.assertRejected(
            "arguments",
            "'days' must map text to text (got int)",
            arguments={"days": 14},
        )

    def test_bytes_value(self):
        self.assertRejected("arguments", "(got bytes)", arguments={"path": b"@@view"})

    def test_nested_value(self):
        self.assertRejected("arguments", "(got dict)", arguments={"path": {"a": "b"}})

    def test_huge_value(self):
        self.assertRejected(
            "arguments", "'path' is too long", arguments={"path": "x" * 20000}
        )


class TestLimits(BadInput):
    """Every change to a job rewrites all its records: each field is bounded."""

    def test_title_of_200_characters_is_kept(self):
        api.add_job("job", **dict(GOOD, title="t" * 200))
        self.assertEqual(len(read_job("job").title), 200)

    def test_title_over_200_characters(self):
        self.assertRejected(
            "title", "is too long (201 characters, at most 200)", title="t" * 201
        )

    def test_megabyte_title_is_not_repeated_in_the_message(self):
        error = self.assertRejected("title", "at most 200", title="t" * 2**20)
        self.assertLess(len(str(error)), 200)

    def test_50_arguments_of_the_largest_size_that_fits(self):
        arguments = {f"key{index:02d}": "v" * 650 for index in range(50)}
        api.add_job("job", **dict(GOOD, arguments=arguments))
        self.assertEqual(read_job("job").arguments, arguments)

    def test_51_arguments(self):
        arguments = {f"key{index}": "v" for index in range(51)}
        self.assertRejected(
            "arguments", "has 51 entries, at most 50", arguments=arguments
        )

    def test_argument_name_over_100_characters(self):
        self.assertRejected(
            "arguments",
            "is too long (101 characters, at most 100)",
            arguments={"k" * 101: "v"},
        )

    def test_argument_value_over_4000_characters(self):
        self.assertRejected(
            "arguments",
            "'path' is too long (4001 characters, at most 4000)",
            arguments={"path": "v" * 4001},
        )

    def test_arguments_over_32_kilobytes_in_all(self):
        arguments = {f"key{index:02d}": "v" * 4000 for index in range(9)}
        self.assertRejected(
            "arguments",
            "are 36045 bytes in all, at most 32768",
            arguments=arguments,
        )

    def test_arguments_size_counts_bytes(self):
        arguments = {f"key{index:02d}": "€" * 2000 for index in range(6)}
        self.assertRejected("arguments", "bytes in all", arguments=arguments)

    def test_history_of_10000_runs_is_kept(self):
        api.add_job("job", **dict(GOOD, history=10000))
        self.assertEqual(read_job("job").history, 10000)

    def test_history_over_10000(self):
        self.assertRejected(
            "history", "10001 is more than the limit 10000", history=10001
        )

    def test_20_notify_addresses(self):
        notify = [f"ops{index}@example.org" for index in range(20)]
        api.add_job("job", **dict(GOOD, notify=notify))
        self.assertEqual(read_job("job").notify, notify)

    def test_21_notify_addresses(self):
        notify = [f"ops{index}@example.org" for index in range(21)]
        self.assertRejected("notify", "has 21 addresses, at most 20", notify=notify)

    def test_ping_url_over_2000_characters(self):
        url = "https://example.org/" + "p" * 2000
        self.assertRejected("ping_url", "at most 2000", ping_url=url)

    def test_the_schema_states_the_limits(self):
        self.assertEqual(ICronJob["title"].max_length, 200)
        self.assertEqual(ICronJob["arguments"].max_length, 50)
        self.assertEqual(ICronJob["arguments"].key_type.max_length, 100)
        self.assertEqual(ICronJob["arguments"].value_type.max_length, 4000)
        self.assertEqual((ICronJob["history"].min, ICronJob["history"].max), (1, 10000))
        self.assertEqual(ICronJob["notify"].max_length, 20)


class TestBadNumbers(BadInput):
    def test_history_zero(self):
        self.assertRejected("history", "0", history=0)

    def test_history_negative(self):
        self.assertRejected("history", "-5", history=-5)

    def test_history_huge(self):
        self.assertRejected("history", "1000000000", history=10**9)

    def test_history_text(self):
        self.assertRejected("history", "'100'", history="100")

    def test_max_runtime_negative(self):
        self.assertRejected("max_runtime", "-1", max_runtime=-1)

    def test_max_runtime_huge(self):
        self.assertRejected("max_runtime", "31536000", max_runtime=365 * 24 * 3600)

    def test_max_runtime_float(self):
        self.assertRejected("max_runtime", "1.5", max_runtime=1.5)


class TestBadIds(BadInput):
    def test_slash(self):
        self.assertRejected("id", "must start with a letter", job_id="reports/nightly")

    def test_space(self):
        self.assertRejected("id", "must start with a letter", job_id="nightly report")

    def test_dot(self):
        # A dot would split the registry record name in the wrong place.
        self.assertRejected("id", "must start with a letter", job_id="nightly.report")

    def test_empty(self):
        self.assertRejected("id", "must start with a letter", job_id="")

    def test_too_long(self):
        self.assertRejected("id", "at most 64", job_id="a" * 65)

    def test_not_text(self):
        self.assertRejected("id", "must start with a letter", job_id=42)

    def test_duplicate(self):
        api.add_job("twice", **GOOD)
        self.assertRejected("id", "already exists", job_id="twice", schedule="@daily")
        self.assertEqual(read_job("twice").schedule, GOOD["schedule"])


class TestOtherFields(BadInput):
    def test_unknown_catch_up_policy(self):
        self.assertRejected("catch_up", "'always'", catch_up="always")

    def test_enabled_not_a_boolean(self):
        self.assertRejected("enabled", "'yes'", enabled="yes")

    def test_missing_title(self):
        self.assertRejected("title", "is required", title="")

    def test_title_with_newline(self):
        self.assertRejected("title", "Nightly", title="Nightly\nreport")

    def test_unknown_field(self):
        self.assertRejected(
            "command", "is not a field of a cron job", command="rm -rf /"
        )

    def test_owner_who_does_not_exist(self):
        self.assertRejected("owner", "user 'nobody' does not exist", owner="nobody")

    def test_every_bad_field_named_at_once(self):
        error = self.assertRejected(
            "schedule", schedule="61 * * * *", timezone="Nowhere", history=0
        )
        self.assertEqual(set(error.errors), {"schedule", "timezone", "history"})


class TestRejectedUpdateKeepsTheJob(BadInput):
    def setUp(self):
        super().setUp()
        api.add_job("kept", **GOOD)
        self.before = asdict(read_job("kept"))

    def assertUpdateRejected(self, field, **fields):
        with self.assertRaises(JobError) as caught:
            api.update_job("kept", **fields)
        self.assertIn("Cron job 'kept'", str(caught.exception))
        self.assertIn(field, caught.exception.errors)
        self.assertEqual(asdict(read_job("kept")), self.before)

    def test_bad_schedule(self):
        self.assertUpdateRejected("schedule", schedule="* * 31 2 *")

    def test_good_title_with_bad_runner(self):
        # The valid title must not be written either: all or nothing.
        self.assertUpdateRejected("runner", title="Renamed", runner="no.such.runner")

    def test_bad_history(self):
        self.assertUpdateRejected("history", history=-1, enabled=False)


class TestImportedJobs(unittest.TestCase):
    """A profile's registry.xml with a broken job: the import fails, naming
    the job, the field and the profile; the transaction is aborted."""

    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        api.add_job("kept", **GOOD)
        transaction.commit()
        self.before = asdict(read_job("kept"))

    def import_profile(self, name):
        setup = self.portal.portal_setup
        with self.assertRaises(JobError) as caught:
            setup.runAllImportStepsFromProfile(
                f"profile-collective.crontab.tests:{name}"
            )
        transaction.abort()
        return caught.exception

    def test_out_of_range_schedule(self):
        error = self.import_profile("bad-job")
        self.assertEqual(error.job_id, "broken")
        self.assertIn("minute field '60'", error.errors["schedule"])
        self.assertIn("registry.xml of profile", error.errors["schedule"])

    def test_missing_required_fields(self):
        error = self.import_profile("incomplete-job")
        self.assertEqual(error.job_id, "incomplete")
        self.assertEqual(set(error.errors), {"runner", "schedule"})
        self.assertIn("is required", error.errors["runner"])

    def test_nothing_stored_is_lost(self):
        self.import_profile("incomplete-job")
        self.assertIsNone(read_job("incomplete"))
        self.assertEqual(asdict(read_job("kept")), self.before)
