from collective.crontab.interfaces import ICronJob
from collective.crontab.testing import INTEGRATION_TESTING
from zope.i18n import translate

import unittest


class TestGerman(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def test_job_fields_render_in_german(self):
        titles = [translate(ICronJob[name].title, target_language="de")
                  for name in ("schedule", "notify", "notify_recovery", "max_runtime")]
        self.assertEqual(titles, ["Zeitplan", "Benachrichtigen", "Bei Erholung benachrichtigen",
                                  "Maximale Laufzeit (Sekunden)"])

    def test_other_languages_fall_back_to_english(self):
        self.assertEqual(translate(ICronJob["schedule"].title, target_language="fr"), "Schedule")
