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
        # The engine gives every run a fresh request of its own: the view
        # sees only the job's query, and its answer goes nowhere else.
        request = getRequest()
        request.form.update(parse_qsl(query, keep_blank_values=True))
        view = site.restrictedTraverse(path.strip("/"))
        result = view()
        status = request.response.getStatus()
        if isinstance(result, bytes):
            result = result.decode("utf-8", "replace")
        if status >= 400:
            raise RuntimeError(
                f"'{target}' answered HTTP {status}: {(result or '')[:500]}"
            )
        return (result or "").strip() or None
