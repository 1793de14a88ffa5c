from collective.crontab import _
from collective.crontab.interfaces import ICronRunner
from urllib.parse import parse_qsl
from zope.globalrequest import getRequest
from zope.interface import implementer


@implementer(ICronRunner)
class CallView:
    """Call a view or script inside the site, as the job's owner."""

    title = _("Call a view")
    description = _(
        "Calls a path inside the site, like a browser would, with the job "
        "owner's rights. Argument 'path', e.g. '@@feed-mega-update' or "
        "'news/@@cleanup?days=14'. The text it returns becomes the message."
    )

    def __call__(self, site, job):
        target = job.arguments.get("path", "").strip()
        if not target:
            raise ValueError("argument 'path' is required")
        path, _sep, query = target.partition("?")
        request = getRequest() if getRequest() is not None else site.REQUEST
        form = dict(parse_qsl(query, keep_blank_values=True))
        saved = dict(request.form)
        request.form.update(form)
        try:
            view = site.restrictedTraverse(path.strip("/"))
            result = view()
        finally:
            request.form.clear()
            request.form.update(saved)
        if isinstance(result, bytes):
            result = result.decode("utf-8", "replace")
        return (result or "").strip() or None
