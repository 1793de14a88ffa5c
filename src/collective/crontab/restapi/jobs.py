"""The @crontab service: cron jobs over plone.restapi.

Built on collective.crontab.api: same permission, validation and owner rule.
Errors are JSON: 400 names the bad fields, 403 the owner rule, 404 the job.
"""

from collective.crontab import api
from collective.crontab.exceptions import JobError
from collective.crontab.state import Via
from plone.protect.interfaces import IDisableCSRFProtection
from plone.restapi.batching import HypermediaBatch
from plone.restapi.deserializer import json_body
from plone.restapi.exceptions import DeserializationError
from plone.restapi.serializer.converters import json_compatible
from plone.restapi.services import Service
from zExceptions import Unauthorized
from zope.interface import alsoProvides
from zope.interface import implementer
from zope.publisher.interfaces import IPublishTraverse

import transaction


SERVICE = "@crontab"


class Runs:
    """The runs of a job, newest first, as a sequence for plone.batching."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.count = api.count_runs(job_id)

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if not 0 <= index < self.count:
            raise IndexError(index)
        return api.history(self.job_id, limit=1, start=index)[0]


class Failure(Exception):
    """Answer the request with an error status and a JSON error body."""

    def __init__(self, status, kind, message, errors=None):
        super().__init__(message)
        self.status = status
        self.body = {"type": kind, "message": message}
        if errors:
            self.body["errors"] = errors


@implementer(IPublishTraverse)
class CrontabService(Service):
    """Base: collects the path after @crontab (job id, action)."""

    def __init__(self, context, request):
        super().__init__(context, request)
        self.params = []

    def publishTraverse(self, request, name):
        self.params.append(name)
        return self

    def reply(self):
        try:
            result = self.answer()
        except Failure as failure:
            transaction.doom()  # an error answer never commits a change
            self.request.response.setStatus(failure.status)
            return {"error": failure.body}
        return self.reply_no_content() if result is None else json_compatible(result)

    def answer(self):
        """The JSON-able answer, or None for 204 No Content."""
        raise NotImplementedError

    def url(self, job_id=None):
        base = f"{self.context.absolute_url()}/{SERVICE}"
        return f"{base}/{job_id}" if job_id else base

    def job_id(self, action=None):
        """The job id of the path ``<id>`` (or ``<id>/<action>``); else 404."""
        if not self.params or self.params[1:] != ([action] if action else []):
            path = "/".join([SERVICE, *self.params])
            raise Failure(404, "NotFound", f"Unknown endpoint {path}")
        job_id = self.params[0]
        try:
            api.get_job(job_id)
        except KeyError as error:
            raise Failure(404, "NotFound", error.args[0]) from None
        return job_id

    def job(self, data):
        return dict(data, **{"@id": self.url(data["id"])})

    def body(self):
        try:
            data = json_body(self.request)
        except DeserializationError as error:
            raise Failure(400, "BadRequest", error.msg) from None
        if isinstance(data, dict) and "via" in data:  # the service says it
            errors = [{"field": "via", "message": "is not a field of a cron job"}]
            raise Failure(400, "BadRequest", "via: is not a field", errors)
        return data

    def change(self, function, *args, **fields):
        """Call a writing api ``function``; bad input is 400, the owner rule 403."""
        alsoProvides(self.request, IDisableCSRFProtection)
        try:
            return function(*args, **fields)
        except JobError as error:
            errors = [
                {"field": name, "message": text} for name, text in error.errors.items()
            ]
            raise Failure(400, "BadRequest", str(error), errors) from None
        except Unauthorized as error:
            raise Failure(403, "Forbidden", str(error)) from None


class CrontabGet(CrontabService):
    """GET @crontab: every job with its state; GET @crontab/<id>: one job,
    its history and its changes, newest first, each batched with b_start
    and b_size."""

    def answer(self):
        if not self.params:
            items = [self.job(data) for data in api.jobs()]
            return {"@id": self.url(), "items": items, "items_total": len(items)}
        job_id = self.job_id()
        result = self.job(api.get_job(job_id))
        result["history"] = self.batched(Runs(job_id))
        result["changes"] = self.batched(api.changes(job_id))
        return result

    def batched(self, sequence):
        batch = HypermediaBatch(self.request, sequence)
        answer = {"items": list(batch), "items_total": batch.items_total}
        if batch.links:
            answer["batching"] = batch.links
        return answer


class CrontabPost(CrontabService):
    """POST @crontab: add a job (its id and fields in the body);
    POST @crontab/<id>/run: run it at the next tick, or with
    ``{"immediately": true}`` now, in this request; POST
    @crontab/<id>/revert: put back what the add-on that ships it says."""

    def answer(self):
        data = self.body()
        if self.params[1:] == ["revert"]:
            job_id = self.job_id("revert")
            return self.job(self.change(api.revert_job, job_id, via=Via.REST))
        if self.params:
            return self.run(self.job_id("run"), data)
        job_id = data.pop("id", None)
        if not job_id:
            errors = [{"field": "id", "message": "is required"}]
            raise Failure(400, "BadRequest", "A cron job needs an id", errors)
        result = self.job(self.change(api.add_job, job_id, **data, via=Via.REST))
        self.request.response.setStatus(201)
        self.request.response.setHeader("Location", result["@id"])
        return result

    def run(self, job_id, data):
        immediately = bool(data.get("immediately"))
        self.change(api.run_now, job_id, immediately=immediately)
        self.request.response.setStatus(200 if immediately else 202)
        return self.job(api.get_job(job_id))


class CrontabPatch(CrontabService):
    """PATCH @crontab/<id>: change some fields (e.g. ``{"enabled": false}``).
    204, or 200 and the job with ``Prefer: return=representation``."""

    def answer(self):
        job_id = self.job_id()
        result = self.change(api.update_job, job_id, **self.body(), via=Via.REST)
        if self.request.getHeader("Prefer") == "return=representation":
            return self.job(result)
        return None


class CrontabDelete(CrontabService):
    """DELETE @crontab/<id>: remove the job, its state and its history."""

    def answer(self):
        self.change(api.delete_job, self.job_id(), via=Via.REST)
        return None
