"""Jobs that add-ons ship in their registry.xml: origin and local edits.

plone.app.registry's import step writes a profile's values over the job
records, whatever a site administrator changed since. Around every profile
import (a full import, a reinstall, or an upgrade step importing only the
registry) GenericSetup notifies an event before and one after; between them
we keep a snapshot of the jobs, so that afterwards every field the site
changed from what the profile shipped last time gets its local value back.
Each job remembers its profile and the values it ships (``state.Origin``).
"""

from AccessControl import getSecurityManager
from collective.crontab.interfaces import ICronJob
from collective.crontab.interfaces import JOBS_PREFIX
from collective.crontab.jobs import FIELDS
from collective.crontab.jobs import importing
from collective.crontab.jobs import read_job
from collective.crontab.jobs import write_job
from collective.crontab.state import changed_fields
from collective.crontab.state import get_crontab
from collective.crontab.state import Origin
from collective.crontab.state import Via
from collective.crontab.subscribers import REARM
from dataclasses import asdict
from lxml import etree
from plone.app.registry.exportimport.handler import RegistryImporter
from plone.registry import Registry
from zope.component.hooks import getSite

import re
import transaction


#: A job id in a record name (``.../<id>.field``) or a records prefix
#: (``prefix=".../<id>"``).
JOB_RECORD = re.compile(rf"{re.escape(JOBS_PREFIX)}/([^.\"'\s<>]+)[.\"']")
_PREFIX = JOBS_PREFIX + "/"


class _Snapshots(dict):
    """profile id -> (import context, job ids it names, {job id: (values,
    last slot)}), kept in the transaction between the two events."""


def registry_files(context):
    """The texts of a profile's registry.xml and registry/*.xml."""
    paths = ["registry.xml"]
    if context.isDirectory("registry"):
        paths += [
            f"registry/{name}"
            for name in sorted(context.listDirectory("registry"))
            if not name.startswith(".")
        ]
    texts = []
    for path in paths:
        data = context.readDataFile(path)
        if data:
            texts.append(data.decode("utf-8") if isinstance(data, bytes) else data)
    return texts


def job_ids_in(texts):
    """The ids of the jobs whose records registry files ``texts`` name."""
    return sorted({job_id for text in texts for job_id in JOB_RECORD.findall(text)})


def shipped_jobs(context, shipped_before=None):
    """{job id: values} of the jobs a profile ships: plone.app.registry's own
    importer reads the profile's job records into an empty registry, where
    each job starts with the schema defaults, or with what this profile
    shipped before (``shipped_before``: {job id: values}), since an import
    writes only what its XML names. A job the profile names but gives no
    runner (a tweak of another add-on's job) is not shipped by it."""
    texts = registry_files(context)
    ids = job_ids_in(texts)
    if not ids:
        return {}
    scratch = Registry()
    for job_id in ids:
        scratch.registerInterface(ICronJob, prefix=_PREFIX + job_id)
        for name, value in (shipped_before or {}).get(job_id, {}).items():
            scratch[f"{_PREFIX}{job_id}.{name}"] = value
    importer = RegistryImporter(scratch, context)
    for text in texts:
        importer.importDocument(_job_nodes(text))
    shipped = {}
    for job_id in ids:
        prefix = f"{_PREFIX}{job_id}."
        if not scratch.get(prefix + "runner"):
            continue  # removed, or not defined here
        values = {name: scratch.get(prefix + name) for name in FIELDS}
        values["arguments"] = dict(values["arguments"] or {})
        values["notify"] = list(values["notify"] or [])
        shipped[job_id] = values
    return shipped


def _job_nodes(text):
    """The document with only the nodes that concern cron jobs."""
    tree = etree.fromstring(text.encode("utf-8"))
    for node in list(tree):
        names = (node.get("name") or "") + " " + (node.get("prefix") or "")
        if not isinstance(node.tag, str) or _PREFIX not in names:
            tree.remove(node)
    return etree.tostring(tree)


def _values(job):
    values = asdict(job)
    return {name: values[name] for name in FIELDS}


def _snapshots(create=False):
    txn = transaction.get()
    try:
        return txn.data(_Snapshots)
    except KeyError:
        if not create:
            return None
        snapshots = _Snapshots()
        txn.set_data(_Snapshots, snapshots)
        return snapshots


def _import_context(event):
    """The import context of the event's profile, or None (a snapshot or
    a tarball)."""
    if not event.profile_id or event.profile_id.startswith("snapshot-"):
        return None
    try:
        return event.tool._getImportContext(event.profile_id)
    except KeyError:
        return None


def before_import(event):
    """IBeforeProfileImportEvent: the profile's registry.xml may write job
    records (not a tarball's or a snapshot's); keep the jobs it names as
    they are now (their values and last slot)."""
    context = _import_context(event)
    if context is None:
        return
    importing(True)
    site = getSite()
    crontab = get_crontab(site) if site is not None else None
    if crontab is None:
        return
    named = job_ids_in(registry_files(context))
    if not named:
        return
    snapshot = {}
    for job_id in named:
        job = read_job(job_id)
        if job is not None:
            snapshot[job_id] = (_values(job), crontab.handled.get(job_id))
    _snapshots(create=True)[event.profile_id] = (context, named, snapshot)


def after_import(event):
    """IProfileImportedEvent: the jobs the profile ships get back every
    field changed here and learn their origin; every job it names gets the
    import's changes in its change log."""
    if _import_context(event) is not None:
        importing(False)
    snapshots = _snapshots()
    if not snapshots or event.profile_id not in snapshots:
        return
    context, named, snapshot = snapshots.pop(event.profile_id)
    profile = event.profile_id.removeprefix("profile-")
    crontab = get_crontab(getSite())
    origins = {job_id: _origin(crontab, job_id) for job_id in named}
    shipped = shipped_jobs(
        context,
        {
            job_id: origin.values
            for job_id, origin in origins.items()
            if origin is not None and origin.profile == profile
        },
    )
    for job_id in named:
        job = read_job(job_id)
        if job is not None:
            before = snapshot.get(job_id)
            reconcile(job_id, profile, shipped.get(job_id), _values(job), before)


def _origin(crontab, job_id):
    state = crontab.state(job_id)
    return state.origin if state is not None else None


def reconcile(job_id, profile, shipped, imported, before):
    """Give job ``job_id`` back the local values of ``before`` (its values
    and last slot before the import, or None) where they differ from what
    its profile shipped last time, remember what it ships now (``shipped``;
    None: the profile does not ship it), and log the import's changes."""
    crontab = get_crontab(getSite())
    state = crontab.state(job_id, create=True)
    origin = state.origin if shipped is not None else None
    values, last = before or (None, None)
    local = {}
    if values is not None and origin is not None:
        local = {
            name: values[name]
            for name in FIELDS
            if values[name] != origin.values.get(name)
            and values[name] != imported[name]
        }
        write_job(job_id, local)
    final = dict(imported, **local)
    kept_schedule = values is not None and all(
        final[name] == values[name] for name in (*REARM, "enabled")
    )
    if kept_schedule and crontab.handled.get(job_id) != last:
        # the import did not move the schedule after all
        if last is None:
            crontab.rearm(job_id)
        else:
            crontab.handled[job_id] = last
    if shipped is not None and (
        origin is None or origin.profile != profile or origin.values != shipped
    ):
        state.origin = Origin(profile, shipped)
    fields = changed_fields(values, final)
    if fields or local:
        note = f"{profile}; kept local: {', '.join(local)}" if local else profile
        user_id = getSecurityManager().getUser().getId() or ""
        state.log_change(user_id, Via.IMPORT, fields, note)


def record_origins(setup_tool):
    """Give every job an installed profile ships and that has no origin yet
    the origin of that profile; the job's values are not touched."""
    crontab = get_crontab(getSite())
    found = 0
    for info in setup_tool.listProfileInfo():
        profile = info["id"]
        if setup_tool.getLastVersionForProfile(profile) == "unknown":
            continue
        context = setup_tool._getImportContext(profile)
        for job_id, shipped in shipped_jobs(context).items():
            state = crontab.state(job_id)
            if state is not None and state.origin is None:
                state.origin = Origin(profile, shipped)
                found += 1
    return found
