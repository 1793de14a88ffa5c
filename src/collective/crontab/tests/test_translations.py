"""The German translation, in the schema and in the rendered control panel."""

from collective.crontab import api
from collective.crontab.exceptions import JobError
from collective.crontab.interfaces import ICronJob
from collective.crontab.testing import FUNCTIONAL_TESTING
from collective.crontab.testing import INTEGRATION_TESTING
from pathlib import Path
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import TEST_USER_ID
from plone.registry.interfaces import IRegistry
from plone.testing.zope import Browser
from zope.component import getUtility
from zope.component.hooks import setSite
from zope.i18n import translate

import re
import transaction
import unittest


PO = (
    Path(__file__).parents[1]
    / "locales"
    / "de"
    / "LC_MESSAGES"
    / "collective.crontab.po"
)


class TestCatalogue(unittest.TestCase):
    def test_every_message_has_a_german_translation(self):
        entries = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', PO.read_text(), re.M)
        untranslated = [msgid for msgid, msgstr in entries[1:] if not msgstr]
        self.assertEqual(untranslated, [], "run make i18n, then translate these")


class TestGerman(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def test_a_job_error_is_german_in_the_panel_and_english_elsewhere(self):
        setSite(self.layer["portal"])
        setRoles(self.layer["portal"], TEST_USER_ID, ["Manager"])
        with self.assertRaises(JobError) as raised:
            api.add_job(
                "bad",
                title="Bad",
                runner="nope",
                schedule="61 * * * *",
                timezone="Mars",
            )
        error = raised.exception
        self.assertEqual(
            str(error),
            "Cron job 'bad': timezone: 'Mars' is not a known IANA time zone; "
            "schedule: '61 * * * *': the minute field '61' is out of range "
            "(0-59); runner: 'nope' is not a registered runner",
        )
        german = {
            name: translate(message, target_language="de")
            for name, message in error.messages.items()
        }
        self.assertEqual(
            german,
            {
                "runner": "„nope“ ist kein registrierter Runner",
                "schedule": "„61 * * * *“: das Feld Minute „61“ liegt außerhalb des "
                "erlaubten Bereichs (0-59)",
                "timezone": "„Mars“ ist keine bekannte IANA-Zeitzone",
            },
        )

    def test_job_fields_render_in_german(self):
        titles = [
            translate(ICronJob[name].title, target_language="de")
            for name in ("schedule", "notify", "notify_recovery", "max_runtime")
        ]
        self.assertEqual(
            titles,
            [
                "Zeitplan",
                "Benachrichtigen",
                "Bei Erholung benachrichtigen",
                "Maximale Laufzeit (Sekunden)",
            ],
        )

    def test_other_languages_fall_back_to_english(self):
        self.assertEqual(
            translate(ICronJob["schedule"].title, target_language="fr"), "Schedule"
        )


class TestGermanControlPanel(unittest.TestCase):
    """Plone picks the language per request (plone.i18n's NegotiateLanguage):
    the site's default language, or with ``plone.use_request_negotiation``
    the browser's Accept-Language among ``plone.available_languages``."""

    layer = FUNCTIONAL_TESTING

    def setUp(self):
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.portal_url = self.portal.absolute_url()
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        setSite(self.portal)
        api.add_job(
            "count",
            title="Count",
            runner="collective.crontab.content-count",
            schedule="0 3 * * *",
        )
        transaction.commit()

    def languages(self, default, available, negotiate=False):
        registry = getUtility(IRegistry)
        registry["plone.available_languages"] = available
        registry["plone.default_language"] = default
        registry["plone.use_request_negotiation"] = negotiate
        transaction.commit()

    def browser(self, accept_language=None):
        browser = Browser(self.app)
        browser.handleErrors = False
        browser.addHeader(
            "Authorization", f"Basic {SITE_OWNER_NAME}:{SITE_OWNER_PASSWORD}"
        )
        if accept_language:
            browser.addHeader("Accept-Language", accept_language)
        return browser

    def text(self, browser):
        """The page as a reader sees it: tags dropped, whitespace collapsed."""
        return " ".join(re.sub(r"<[^>]+>", " ", browser.contents).split())

    def test_job_list_in_the_site_language(self):
        self.languages("de", ["de"])
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-controlpanel")
        text = self.text(browser)
        self.assertRegex(browser.contents, r'<html [^>]*lang="de"')
        self.assertIn("<h1>Cron-Jobs</h1>", " ".join(browser.contents.split()))
        for german in (
            "Arbeiten, die diese Website nach Zeitplan erledigt.",
            "Cron-Job hinzufügen",
            "Nächste Ausführung",
            "Noch nie ausgeführt",
            "Jetzt ausführen",
            "Deaktivieren",
            "Inhalte zählen",
            "Um 03:00",
            "Diese Website hat noch nie einen Tick erhalten.",
            "Cron-Jobs laufen nur, wenn eine Uhr jede Minute die Tick-Ansicht",
            "„collective.crontab: Run tick“",
        ):
            self.assertIn(german, text)
        self.assertIn('aria-label="Letzte Ausführungen"', browser.contents)
        for english in ("Add cron job", "Next run", "Run now", "Count content"):
            self.assertNotIn(english, text)

    def test_change_log_in_the_site_language(self):
        self.languages("de", ["de"])
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-changes?job=count")
        text = self.text(browser)
        for german in ("Änderungen an Count", "Wann", "Wer", "Über", "Python-API"):
            self.assertIn(german, text)
        for english in ("Changes of", "What changed", "Python API"):
            self.assertNotIn(english, text)

    def test_add_form_in_the_site_language(self):
        self.languages("de", ["de"])
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        text = self.text(browser)
        self.assertIn("Cron-Job hinzufügen", text)
        self.assertEqual(
            browser.getControl(name="form.buttons.save").value, "Speichern"
        )
        self.assertEqual(
            browser.getControl(name="form.buttons.cancel").value, "Abbrechen"
        )
        self.assertEqual(
            browser.getControl(name="form.buttons.preview").value, "Zeitplan-Vorschau"
        )
        schedule = re.search(
            r'id="formfield-form-widgets-schedule".*?</div>\s*</div>',
            browser.contents,
            re.S,
        ).group(0)
        self.assertIn("Zeitplan", schedule)
        self.assertIn("Ein Cron-Ausdruck mit fünf Feldern", schedule)
        self.assertIn(
            "Datenbank packen",
            browser.getControl(name="form.widgets.runner:list").displayOptions,
        )
        self.assertIn(
            "Überspringen",
            browser.getControl(name="form.widgets.catch_up:list").displayOptions,
        )
        self.assertIn("Syntax des Zeitplans", text)

        browser.getControl(name="form.widgets.schedule").value = "30 2 * * *"
        browser.getControl(name="form.widgets.timezone:list").value = ["Europe/Berlin"]
        browser.getControl("Zeitplan-Vorschau").click()
        text = self.text(browser)
        self.assertIn("Nächste Ausführungen", text)
        self.assertIn("Sommerzeit in Europe/Berlin:", text)
        self.assertIn(
            "werden die Uhren von 02:00 auf 03:00 vorgestellt: 02:30 gibt es "
            "nicht, daher läuft der Job stattdessen um 03:00.",
            text,
        )

        browser.getControl(name="form.widgets.id").value = "nightly"
        browser.getControl(name="form.widgets.title").value = "Nightly"
        browser.getControl(name="form.widgets.runner:list").value = [
            "collective.crontab.content-count"
        ]
        browser.getControl("Speichern").click()
        self.assertEqual(browser.url, self.portal_url + "/@@crontab-controlpanel")
        self.assertIn("Nightly wurde gespeichert.", self.text(browser))

    def field_error(self, browser, name):
        field = re.search(
            rf'id="formfield-form-widgets-{name}".*?</div>\s*</div>',
            browser.contents,
            re.S,
        )
        return " ".join(re.sub(r"<[^>]+>", " ", field.group(0)).split())

    def test_validation_errors_in_the_site_language_name_the_value(self):
        self.languages("de", ["de"])
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        browser.getControl(name="form.widgets.id").value = "9 lives"
        browser.getControl(name="form.widgets.title").value = "Nightly"
        browser.getControl(name="form.widgets.runner:list").value = ["test.record"]
        browser.getControl(name="form.widgets.schedule").value = "0 25 * * *"
        browser.getControl(name="form.widgets.notify").value = "ops at example"
        browser.getControl(name="form.widgets.ping_url").value = "ftp://example.org"
        browser.getControl("Speichern").click()
        self.assertIn(
            "„9 lives“ muss mit einem Buchstaben beginnen",
            self.field_error(browser, "id"),
        )
        browser.getControl(name="form.widgets.id").value = "nightly"
        browser.getControl("Speichern").click()
        self.assertIn(
            "„0 25 * * *“: das Feld Stunde „25“ liegt außerhalb des erlaubten "
            "Bereichs (0-23)",
            self.field_error(browser, "schedule"),
        )
        self.assertIn(
            "'ops at example' ist keine E-Mail-Adresse",
            self.field_error(browser, "notify"),
        )
        self.assertIn(
            "'ftp://example.org' muss eine http://- oder https://-URL sein",
            self.field_error(browser, "ping_url"),
        )
        self.assertNotIn("out of range", browser.contents)

    def test_preview_and_action_errors_in_the_site_language(self):
        self.languages("de", ["de"])
        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        browser.getControl(name="form.widgets.schedule").value = "*/5 * * *"
        browser.getControl("Zeitplan-Vorschau").click()
        self.assertIn(
            "„*/5 * * *“ hat 4 Felder; Cron-Ausdrücke haben 5",
            self.field_error(browser, "schedule"),
        )
        browser.getControl(name="form.widgets.schedule").value = "0 3 * * *"
        browser.getControl(name="form.widgets.timezone:list").value = []
        browser.getControl("Zeitplan-Vorschau").click()
        self.assertIn("Nächste Ausführungen", self.text(browser))

    def test_browser_language_when_the_site_negotiates_it(self):
        self.languages("en", ["en", "de"], negotiate=True)
        browser = self.browser(accept_language="de-DE,de;q=0.9,en;q=0.5")
        browser.open(self.portal_url + "/@@crontab-add")
        self.assertEqual(
            browser.getControl(name="form.buttons.save").value, "Speichern"
        )
        self.assertIn("Ein Cron-Ausdruck mit fünf Feldern", browser.contents)

        browser = self.browser()
        browser.open(self.portal_url + "/@@crontab-add")
        self.assertEqual(browser.getControl(name="form.buttons.save").value, "Save")
        self.assertIn("A cron expression with five fields", browser.contents)
