"""crontab-ctl: the crontab of a site from the shell, through zope.conf.

    crontab-ctl -C etc/zope.conf [--site Plone] [--user NAME] COMMAND

Commands: list, show ID, run ID, tick, enable ID, disable ID, history ID,
changes ID.
It opens the database like ``zconsole run`` and acts as a Manager user of
the Zope root: ``--user``, else ``admin``. It changes jobs through
collective.crontab.api, under the same rules as the control panel (enabling
or disabling never changes a job's owner); every run gets a fresh request
and runs as the job's owner (anonymous for jobs without one), as under the
clock.

Exit codes: 0 done; 1 a run failed or did not happen; 2 bad usage, unknown
site, user or job.
"""

from collective.crontab.status import Status
from datetime import datetime

import argparse
import json
import sys


OK, FAILED, USAGE = 0, 1, 2
DEFAULT_USERS = ("admin",)
#: What ``show`` prints after the job's fields (those in ICronJob's order).
STATE = (
    "effective_timezone",
    "runs_as",
    "next_run",
    "last_status",
    "running",
    "queued",
)


class CommandError(Exception):
    """Bad usage: printed, exit code 2."""


def parser():
    parser = argparse.ArgumentParser(
        prog="crontab-ctl",
        description="Manage the cron jobs of a Plone site with collective.crontab.",
    )
    parser.add_argument(
        "-C", "--zope-conf", required=True, help="the instance's zope.conf"
    )
    parser.add_argument("--site", help="id of the Plone site (default: the only one)")
    parser.add_argument("--user", help="Manager user of the Zope root to act as")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the jobs, their schedule and last status")
    commands.add_parser("tick", help="run what is due now, like the clock")
    for name, text in (
        ("show", "a job's settings and state"),
        ("run", "run a job now, in this process, and record the run"),
        ("enable", "let a job run on its schedule"),
        ("disable", "stop a job from running on its schedule"),
        ("history", "a job's recorded runs, newest first"),
        ("changes", "who changed a job's fields, how, newest first"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("job_id", metavar="ID")
        if name in ("history", "changes"):
            command.add_argument("--limit", type=int, default=20)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    app = None
    try:
        app = _open(args.zope_conf)
        _enter(app, args.site, args.user)
        return COMMANDS[args.command](args)
    except CommandError as error:
        print(f"crontab-ctl: {error}", file=sys.stderr)
        return USAGE
    except KeyError as error:
        print(f"crontab-ctl: {error.args[0]}", file=sys.stderr)
        return USAGE
    except ValueError as error:  # a JobError: the job and the bad fields
        print(f"crontab-ctl: {error}", file=sys.stderr)
        return USAGE
    finally:
        if app is not None:
            _send_pings()
            app._p_jar.db().close()


def _send_pings():
    """Wait (bounded) for the pings of the runs: the process ends next."""
    from collective.crontab import notifications

    if not notifications.drain(3 * notifications.PING_DEADLINE):
        print("crontab-ctl: some pings were not sent in time", file=sys.stderr)


def _open(zope_conf):
    from Zope2.Startup.run import make_wsgi_app

    import Zope2

    try:
        make_wsgi_app({}, zope_conf)
    except (OSError, SystemExit) as error:
        raise CommandError(f"cannot start Zope with {zope_conf}: {error}") from None
    return Zope2.app()


def _enter(app, site_id, user_id):
    from AccessControl.SecurityManagement import newSecurityManager
    from Products.CMFPlone.Portal import PloneSite
    from Testing.makerequest import makerequest
    from zope.component.hooks import setSite
    from zope.globalrequest import setRequest

    app = makerequest(app)
    sites = [obj.getId() for obj in app.objectValues() if isinstance(obj, PloneSite)]
    if site_id is None:
        if len(sites) != 1:
            raise CommandError(
                "name the site with --site (found: %s)" % (", ".join(sites) or "none")
            )
        site_id = sites[0]
    if site_id not in sites:
        raise CommandError(
            "there is no Plone site '{}' (found: {})".format(site_id, ", ".join(sites))
        )
    users = app.acl_users
    for candidate in (user_id,) if user_id else DEFAULT_USERS:
        user = users.getUserById(candidate)
        if user is not None:
            break
    else:
        raise CommandError(
            "no user {} in the Zope root".format(
                " or ".join((user_id,) if user_id else DEFAULT_USERS)
            )
        )
    if "Manager" not in user.getRoles():
        raise CommandError(f"user '{user.getId()}' is not a Manager of the Zope root")
    site = app[site_id]
    request = app.REQUEST
    request["PARENTS"] = [site, app]
    setRequest(request)
    setSite(site)
    newSecurityManager(request, user.__of__(users))


def _when(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z")
    return value or "-"


def list_jobs(args):
    from collective.crontab import api

    rows = [("ID", "ON", "SCHEDULE", "NEXT RUN", "LAST", "TITLE")]
    for job in api.jobs():
        rows.append((
            job["id"],
            "yes" if job["enabled"] else "no",
            job["schedule"],
            _when(job["next_run"]),
            job["last_status"] or "-",
            job["title"],
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=False)
            )
            + "  "
            + row[5]
        )
    return OK


def show(args):
    from collective.crontab import api

    job = api.get_job(args.job_id)
    for name in ("id", *api.FIELDS, *STATE):
        value = _when(job[name]) if name == "next_run" else job[name]
        print(f"{name + ':':<19} {value}")
    last = job["last_run"]
    if last:
        message = last["message"].splitlines()[0] if last["message"] else ""
        print(
            f"{'last_run:':<19} {_when(last['started'])} {last['status']} "
            f"({last['duration']:.1f}s) {message}"
        )
    return OK


def run(args):
    from collective.crontab import api

    summary = api.run_now(args.job_id, immediately=True)
    if not summary["ran"]:
        print(
            f"{args.job_id} did not run: a run of it is still going; it is "
            "queued for the next tick",
            file=sys.stderr,
        )
        return FAILED
    latest = api.history(args.job_id, limit=1)[0]
    print("{}: {} in {:.1f}s".format(args.job_id, latest["status"], latest["duration"]))
    if latest["message"]:
        print(latest["message"])
    if latest["traceback"]:
        print(latest["traceback"], file=sys.stderr, end="")
    return FAILED if latest["status"] == Status.FAILURE else OK


def tick(args):
    from collective.crontab import api

    summary = api.tick()
    print(json.dumps(summary, indent=2, default=str))
    failed = [entry for entry in summary["ran"] if entry["status"] == Status.FAILURE]
    return FAILED if failed or summary[Status.ABANDONED] else OK


def set_enabled(enabled):
    def command(args):
        from collective.crontab import api

        import transaction

        api.update_job(args.job_id, enabled=enabled, via=api.Via.CLI)
        transaction.commit()
        print("{} {}".format(args.job_id, "enabled" if enabled else "disabled"))
        return OK

    return command


def history(args):
    from collective.crontab import api

    for entry in api.history(args.job_id, limit=args.limit):
        message = entry["message"].splitlines()[0] if entry["message"] else ""
        print(
            f"{_when(entry['started'])}  {entry['status']:<9} "
            f"{entry['duration']:7.1f}s  {entry['client']}  {message}"
        )
    return OK


def changes(args):
    from collective.crontab import api

    for entry in api.changes(args.job_id, limit=args.limit):
        fields = "; ".join(
            f"{item['field']}: {item['old']!r} -> {item['new']!r}"
            for item in entry["fields"]
        )
        print(f"{_when(entry['when'])}  {entry['who']}  {entry['via']:<7} {fields}")
    return OK


COMMANDS = {
    "list": list_jobs,
    "show": show,
    "run": run,
    "tick": tick,
    "enable": set_enabled(True),
    "disable": set_enabled(False),
    "history": history,
    "changes": changes,
}


if __name__ == "__main__":
    sys.exit(main())
