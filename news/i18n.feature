German translation; ``make i18n`` re-extracts ``locales/collective.crontab.pot`` with i18ndude and syncs every language.
