"""Who a job runs as: its owner, recorded with the user folder it lives in.

The ``owner`` of a job is a user id of the site's user folder (``editor``),
or, with a leading ``/``, of the Zope root's (``/admin``). It is looked up
only there: a missing owner is an error, never another user of the same id.
An empty owner runs with the rights of an anonymous visitor.
"""

from AccessControl import getSecurityManager
from AccessControl.Permissions import view_management_screens
from AccessControl.users import nobody
from Acquisition import aq_base
from Acquisition import aq_inner
from Acquisition import aq_parent
from collective.crontab import _


ROOT = "/"


def split(owner):
    """(in_root, user_id) of an owner value."""
    owner = owner or ""
    if owner.startswith(ROOT):
        return True, owner[len(ROOT) :]
    return False, owner


def folder(site, in_root):
    return site.getPhysicalRoot().acl_users if in_root else site.acl_users


def find_owner(site, owner):
    """The user ``owner`` runs as, wrapped in its user folder; anonymous
    for an empty owner; None if the user is not (or no longer) there."""
    if not owner:
        return nobody
    in_root, user_id = split(owner)
    users = folder(site, in_root)
    user = users.getUserById(user_id)
    return user.__of__(users) if user is not None else None


def current_owner(site):
    """The owner value of the current user, or None if they live in
    neither the site's nor the Zope root's user folder."""
    user = getSecurityManager().getUser()
    user_id = user.getId()
    if not user_id:
        return None
    found = aq_base(aq_parent(aq_inner(user)))
    for in_root in (False, True):
        if found is aq_base(folder(site, in_root)):
            return (ROOT if in_root else "") + user_id
    return None


def may_manage_root(site):
    root = site.getPhysicalRoot()
    return bool(getSecurityManager().checkPermission(view_management_screens, root))


def describe(owner):
    """The owner as people read it: 'editor', 'admin (Zope root)'."""
    if not owner:
        return _("Anonymous (no owner)")
    in_root, user_id = split(owner)
    if in_root:
        return _("${user} (Zope root)", mapping={"user": user_id})
    return user_id
