from AccessControl import getSecurityManager
from AccessControl import Unauthorized
from AccessControl.Permissions import view_management_screens
from collective.crontab import _
from collective.crontab.interfaces import ICronRunner
from zope.interface import implementer


@implementer(ICronRunner)
class PackDatabase:
    """The classic weekly zeopack cron line, as a job."""

    title = _("Pack the database")
    description = _(
        "Removes old object revisions from the site's database. Argument "
        "'days' (default 7): keep the revisions of that many days. The "
        "job's owner must be allowed to manage the Zope root."
    )

    def __call__(self, site, job):
        raw = job.arguments.get("days", "7")
        try:
            days = float(raw)
        except ValueError:
            raise ValueError(f"argument 'days' must be a number, not {raw!r}") from None
        if days < 0:
            raise ValueError(f"argument 'days' must not be negative, not {raw!r}")
        root = site.getPhysicalRoot()
        if not getSecurityManager().checkPermission(view_management_screens, root):
            raise Unauthorized(
                "Packing the database needs the right to manage the Zope root"
            )
        db = site._p_jar.db()
        before = db.getSize()
        db.pack(days=days)
        return (
            f"Packed database '{db.database_name}' keeping {days:g} days: "
            f"{before} -> {db.getSize()} bytes"
        )
