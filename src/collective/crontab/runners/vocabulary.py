from collective.crontab.interfaces import ICronRunner
from zope.component import getUtilitiesFor
from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory
from zope.schema.vocabulary import SimpleTerm
from zope.schema.vocabulary import SimpleVocabulary


@provider(IVocabularyFactory)
def runners_vocabulary(context):
    """Every registered runner, by title."""
    terms = [
        SimpleTerm(name, name, runner.title)
        for name, runner in getUtilitiesFor(ICronRunner)
    ]
    return SimpleVocabulary(sorted(terms, key=lambda term: str(term.title)))
