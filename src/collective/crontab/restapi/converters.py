"""A run status in JSON: its text."""

from collective.crontab.status import Status
from plone.restapi.interfaces import IJsonCompatible
from zope.component import adapter
from zope.interface import implementer


@adapter(Status)
@implementer(IJsonCompatible)
def status_converter(value):
    return str(value)
