"""The control panel in plone.restapi's @controlpanels, for Volto sites.

Its configlet_id is the configlet's action_id in controlpanel.xml and the
name of the Classic UI view: @@crontab-controlpanel. Its schema is the form
of one job; the jobs themselves are read and written through @crontab.
"""

from collective.crontab import api
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import ICrontabControlpanel
from collective.crontab.restapi.jobs import SERVICE
from plone.restapi.controlpanels import RegistryConfigletPanel
from plone.restapi.interfaces import IControlpanelLayer
from plone.restapi.interfaces import IDeserializeFromJson
from plone.restapi.interfaces import ISerializeToJson
from plone.restapi.serializer.controlpanels import get_jsonschema_for_controlpanel
from plone.restapi.serializer.controlpanels import SERVICE_ID
from plone.restapi.serializer.converters import json_compatible
from zExceptions import BadRequest
from zope.component import adapter
from zope.interface import implementer
from zope.interface import Interface


@adapter(Interface, IControlpanelLayer)
@implementer(ICrontabControlpanel)
class CrontabControlpanel(RegistryConfigletPanel):
    schema = ICronJob
    configlet_id = "crontab-controlpanel"
    configlet_category_id = "Products"


@adapter(ICrontabControlpanel)
@implementer(ISerializeToJson)
class CrontabControlpanelSerializeToJson:
    """The panel, the schema of a job and the jobs (as GET @crontab)."""

    def __init__(self, controlpanel):
        self.controlpanel = controlpanel

    def __call__(self):
        panel = self.controlpanel
        url = panel.context.absolute_url()
        jobs = f"{url}/{SERVICE}"
        return json_compatible({
            "@id": f"{url}/{SERVICE_ID}/{panel.__name__}",
            "title": panel.title,
            "group": panel.group,
            "schema": get_jsonschema_for_controlpanel(
                panel, panel.context, panel.request
            ),
            "items": [
                dict(job, **{"@id": "{}/{}".format(jobs, job["id"])})
                for job in api.jobs()
            ],
            "@components": {"crontab": {"@id": jobs}},
        })


@adapter(ICrontabControlpanel)
@implementer(IDeserializeFromJson)
class CrontabControlpanelDeserializeFromJson:
    """The panel has no settings of its own: jobs are changed via @crontab."""

    def __init__(self, controlpanel):
        self.controlpanel = controlpanel

    def __call__(self, mask_validation_errors=True):
        raise BadRequest(f"Change cron jobs with POST, PATCH or DELETE on {SERVICE}")
