"""One Zope client process of the process tests (test_multiclient, test_crash),
on ZEO or RelStorage.

Run as ``zconsole run etc/zope.conf zeo_client.py STEP...`` (``app`` is
bound); each step is ``name=value``, done in order, and prints JSON lines:

- ``site=ID``: work on the site ID (default: Plone).
- ``jobs=FILE``: add the jobs of a JSON file ({id: fields}) as admin.
- ``tick=ISO``: tick at that (injected) time; ``tick=``: at the time now.
- ``loop=SECONDS,INTERVAL,OUT``: for SECONDS, tick at the real time at every
  multiple of INTERVAL seconds (all clients tick at the same instants, so
  they race for the same slots); append each summary, or the error of a tick
  that failed (database server down), to the file OUT.
- ``wait=FILE``: wait until FILE exists and the database server answers.
"""

from AccessControl.SecurityManagement import newSecurityManager
from collective.crontab import api
from collective.crontab import engine
from datetime import datetime
from pathlib import Path
from zope.component.hooks import setSite

import json
import sys
import time
import transaction


def add_jobs(site, path):
    users = site.getPhysicalRoot().acl_users
    newSecurityManager(None, users.getUser("admin").__of__(users))
    jobs = json.loads(Path(path).read_text())
    for job_id, fields in jobs.items():
        api.add_job(job_id, **fields)
    transaction.commit()
    return {"added": sorted(jobs)}


def tick_at(site, iso):
    transaction.abort()
    return engine.tick(site, now=datetime.fromisoformat(iso) if iso else None)


def loop(site, spec):
    seconds, interval, out = spec.split(",", 2)
    interval = float(interval)
    end = time.time() + float(seconds)
    with open(out, "a") as log:
        while True:
            time.sleep(interval - time.time() % interval)
            if time.time() > end:
                return
            at = time.time()
            try:
                transaction.abort()
                entry = {"summary": engine.tick(site)}
            except Exception as error:
                entry = {"error": f"{type(error).__name__}: {error}"}
                try:
                    transaction.abort()
                except Exception as abort_error:  # RelStorage: server down
                    entry["abort"] = f"{type(abort_error).__name__}: {abort_error}"
            entry["at"] = at
            entry["client"] = engine.CLIENT
            entry["connected"] = is_connected(site._p_jar.db().storage)
            log.write(json.dumps(entry) + "\n")
            log.flush()


def is_connected(storage):
    """Whether the storage's server answers: ZEO's connection state; for
    RelStorage, a new database connection opens."""
    if hasattr(storage, "is_connected"):
        return storage.is_connected()
    manager = storage._adapter.connmanager
    try:
        manager.close(*manager.open())
    except Exception:
        return False
    return True


def wait(app, path):
    storage = app._p_jar.db().storage
    for _attempt in range(1200):
        if Path(path).exists() and is_connected(storage):
            return
        time.sleep(0.1)
    raise TimeoutError(f"waited for {path}")


def main(app, steps):
    site = app.unrestrictedTraverse("Plone")
    setSite(site)
    for step in steps:
        name, _sep, value = step.partition("=")
        if name == "site":
            site = app.unrestrictedTraverse(value)
            setSite(site)
        elif name == "loop":
            loop(site, value)
        elif name == "wait":
            wait(app, value)
        else:
            summary = add_jobs(site, value) if name == "jobs" else tick_at(site, value)
            print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(app, sys.argv[4:])  # noqa: F821  (zconsole run CONF SCRIPT STEP...)
