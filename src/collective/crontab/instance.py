"""Build WSGI Zope instances with Plone and collective.crontab.

One place for `make run`, the cluster, the process tests and the benchmark:

    python -m collective.crontab.instance create DIR [--port 8080]
        [--zeo HOST:PORT | --relstorage DSN] [--clock] [--site Plone]
        [--demo-job]

writes DIR/etc/{zope.conf,zope.ini,site.zcml}, and (with --site) creates the
Plone site with the add-on through ``zconsole run``, printing the admin login.
"""

from pathlib import Path

import argparse
import os
import secrets
import subprocess
import sys


CLOCK_USER = "crontab-clock"
#: A site as Plone 6.2's Classic UI distribution (plone.classicui) creates
#: it: its base profiles (Barceloneta), then the example content.
CLASSIC_UI_PROFILES = (
    "plone.app.contenttypes:default",
    "plone.app.layout:default",
    "plonetheme.barceloneta:default",
)
CLASSIC_UI_CONTENT = "plone.app.contenttypes:plone-content"
SITE_PROFILES = (*CLASSIC_UI_PROFILES, CLASSIC_UI_CONTENT, "collective.crontab:default")
#: The clock user's only role: it may run the tick, nothing else.
CLOCK_ROLE = "Crontab Clock"

SITE_ZCML = """\
<configure
    xmlns="http://namespaces.zope.org/zope"
    xmlns:meta="http://namespaces.zope.org/meta"
    xmlns:five="http://namespaces.zope.org/five"
    >
  <include package="Zope2.App" />
  <include package="Products.Five" />
  <meta:redefinePermission from="zope2.Public" to="zope.Public" />
  <five:loadProducts file="meta.zcml" />
  <five:loadProducts />
{includes}  <five:loadProductsOverrides />
  <securityPolicy component="AccessControl.security.SecurityPolicy" />
</configure>
"""

ZOPE_CONF = """\
%define INSTANCE {home}
instancehome $INSTANCE
clienthome $INSTANCE/var
debug-mode off
{imports}
<zodb_db main>
{storage}
   mount-point /
   cache-size 50000
</zodb_db>
<environment>
  CHAMELEON_CACHE $INSTANCE/var/cache
  CRONTAB_CLIENT {client}
  zope_i18n_compile_mo_files true
</environment>
<dos_protection>
</dos_protection>
{clocks}
"""

FILESTORAGE = """\
   <filestorage>
     path $INSTANCE/var/Data.fs
   </filestorage>"""

ZEOCLIENT = """\
   <zeoclient>
     server {address}
     storage 1
     name zeostorage
     var $INSTANCE/var
     cache-size 64MB
   </zeoclient>"""

RELSTORAGE = """\
   <relstorage>
     blob-dir $INSTANCE/var/blobcache
     shared-blob-dir false
     <postgresql>
       dsn {dsn}
     </postgresql>
   </relstorage>"""

CLOCK = """\
<clock-server {name}>
  method {method}
  period {period:g}
  user {user}
  host localhost
</clock-server>"""

ZOPE_INI = """\
[app:zope]
use = egg:Zope#main
zope_conf = %(here)s/zope.conf

[server:main]
use = egg:waitress#main
host = {host}
port = {port}
threads = 4

[pipeline:main]
pipeline =
    egg:Zope#httpexceptions
    zope

[loggers]
keys = root, waitress, collective.crontab

[handlers]
keys = console, eventlog

[formatters]
keys = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
datefmt = %Y-%m-%d %H:%M:%S

[logger_root]
level = INFO
handlers = console, eventlog

[logger_waitress]
level = WARN
handlers =
qualname = waitress

[logger_collective.crontab]
level = INFO
handlers =
qualname = collective.crontab

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[handler_eventlog]
class = FileHandler
args = (r'{home}/var/log/event.log', 'a')
level = INFO
formatter = generic
"""


def write_instance(
    home,
    port=8080,
    host="127.0.0.1",
    zeo=None,
    clock=None,
    client=None,
    clock_period=60,
    zcml=(),
    relstorage=None,
):
    """Write an instance home. ``zeo``: 'host:port' of a ZEO server;
    ``relstorage``: the DSN of a PostgreSQL database for RelStorage (needs
    the ``relstorage`` extra); else a FileStorage in var/. ``clock``: path
    of the tick view for a <clock-server> section called every
    ``clock_period`` seconds as the password-less CLOCK_USER (needs
    collective.crontab's component.xml).
    ``zcml``: extra 'package:file.zcml' to load, e.g. the test runners."""
    home = Path(home).resolve()
    for folder in ("etc", "var/log", "var/cache"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    imports = []
    if relstorage:
        imports.append("%import relstorage")
        storage = RELSTORAGE.format(dsn=relstorage)
    else:
        storage = ZEOCLIENT.format(address=zeo) if zeo else FILESTORAGE
    clocks = ""
    if clock:
        imports.append("%import collective.crontab")
        clocks = CLOCK.format(
            name="tick", method=clock, period=clock_period, user=CLOCK_USER
        )
    (home / "etc" / "zope.conf").write_text(
        ZOPE_CONF.format(
            home=home,
            storage=storage,
            imports="\n".join(imports),
            clocks=clocks,
            client=client or f"{host}:{port}",
        )
    )
    (home / "etc" / "zope.ini").write_text(
        ZOPE_INI.format(home=home, host=host, port=port)
    )
    includes = "".join(
        '  <include package="{}" file="{}" />\n'.format(*tuple(name.split(":")))
        for name in zcml
    )
    (home / "etc" / "site.zcml").write_text(SITE_ZCML.format(includes=includes))
    return home


def create_site(home, site_id="Plone", demo_job=False, password=None):
    """Create the admin user, the clock user (no password is stored, role
    CLOCK_ROLE only), and a Plone site with collective.crontab, through
    ``zconsole run``. Returns the admin password."""
    password = password or secrets.token_urlsafe(12)
    zconsole = Path(sys.executable).parent / "zconsole"
    env = dict(os.environ, CRONTAB_ADMIN_PASSWORD=password)
    subprocess.run(
        [
            str(zconsole),
            "run",
            str(Path(home) / "etc" / "zope.conf"),
            __file__,
            "--zconsole-create-site",
            site_id,
            "1" if demo_job else "0",
        ],
        check=True,
        env=env,
    )
    return password


def add_site(app, site_id):
    """Add the Plone site ``site_id`` built from SITE_PROFILES to ``app``."""
    from Products.CMFPlone.factory import addPloneSite

    return addPloneSite(
        app, site_id, title="collective.crontab demo", extension_ids=SITE_PROFILES
    )


def add_clock_user(app):
    """The Zope root user CLOCK_USER with the role CLOCK_ROLE only and no
    password anyone knows: the clock logs it in in-process by name."""
    users = app.acl_users  # a PAS once a Plone site was added
    if users.getUser(CLOCK_USER) is not None:
        return
    roles = getattr(users, "roles", None)
    if roles is not None and CLOCK_ROLE not in roles.listRoleIds():
        roles.addRole(CLOCK_ROLE, CLOCK_ROLE, "May run the cron tick, nothing else")
    users._doAddUser(CLOCK_USER, secrets.token_urlsafe(32), [CLOCK_ROLE], [])


def _create_site_in_zconsole(app, site_id, demo_job):
    """Runs inside ``zconsole run``: ``app`` is the Zope root."""
    from AccessControl.SecurityManagement import newSecurityManager
    from collective.crontab import api
    from zope.component.hooks import setSite

    import transaction

    users = app.acl_users
    if users.getUser("admin") is None:
        users._doAddUser("admin", os.environ["CRONTAB_ADMIN_PASSWORD"], ["Manager"], [])
    newSecurityManager(None, users.getUser("admin").__of__(users))
    if site_id not in app.objectIds():
        add_site(app, site_id)
    add_clock_user(app)
    site = app[site_id]
    setSite(site)
    if demo_job and "demo" not in [job["id"] for job in api.jobs()]:
        # Ownerless, as an add-on's registry.xml ships jobs: it runs with
        # anonymous rights, whoever ticks.
        api.add_job(
            "demo",
            title="Demo: count the site's content every minute",
            runner="collective.crontab.content-count",
            schedule="* * * * *",
            owner="",
        )
        transaction.commit()
        api.tick()  # arms the job: it runs at the clock's first minute
    transaction.commit()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m collective.crontab.instance")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write an instance home")
    create.add_argument("home")
    create.add_argument("--port", type=int, default=8080)
    create.add_argument("--host", default="127.0.0.1")
    storage = create.add_mutually_exclusive_group()
    storage.add_argument("--zeo", help="HOST:PORT of a ZEO server")
    storage.add_argument(
        "--relstorage", metavar="DSN", help="PostgreSQL DSN for RelStorage"
    )
    create.add_argument("--clock", help="tick path for a <clock-server> section")
    create.add_argument(
        "--clock-period", type=float, default=60, help="seconds between ticks"
    )
    create.add_argument("--client", help="name of this client in the run log")
    create.add_argument("--site", help="create this Plone site")
    create.add_argument("--demo-job", action="store_true")
    args = parser.parse_args(argv)
    home = write_instance(
        args.home,
        args.port,
        args.host,
        args.zeo,
        args.clock,
        args.client,
        clock_period=args.clock_period,
        relstorage=args.relstorage,
    )
    if args.site:
        password_file = home / "admin-password.txt"
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = create_site(home, args.site, args.demo_job)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        print(f"Admin login: admin / {password} (stored in {password_file})")


if __name__ == "__main__":
    if "--zconsole-create-site" in sys.argv:  # zconsole run binds `app`
        _create_site_in_zconsole(app, sys.argv[-2], sys.argv[-1] == "1")  # noqa: F821
    else:
        main()
