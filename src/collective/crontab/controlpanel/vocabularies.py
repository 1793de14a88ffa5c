from zoneinfo import available_timezones
from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory
from zope.schema.vocabulary import SimpleTerm
from zope.schema.vocabulary import SimpleVocabulary


@provider(IVocabularyFactory)
def timezones_vocabulary(context):
    """Every IANA time zone name, sorted."""
    names = sorted(available_timezones() | {"UTC"})
    return SimpleVocabulary([SimpleTerm(name, name, name) for name in names])
