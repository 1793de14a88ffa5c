"""Real clusters for the process tests: a database server on 127.0.0.1 (a
``runzeo`` ZEO server, or PostgreSQL for RelStorage), a Plone site created
through a client instance, and client processes (``zconsole run`` of
tests/zeo_client.py) started on demand.

The test process itself reads the results through a plain storage
connection, without loading Zope's configuration.
"""

from collections import defaultdict
from collective.crontab.instance import create_site
from collective.crontab.instance import write_instance
from collective.crontab.testing import listen_port
from collective.crontab.tests.postgres import PostgreSQL
from pathlib import Path
from plone.testing import Layer

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import transaction


BIN = Path(sys.executable).parent
SCRIPT = Path(__file__).parent / "zeo_client.py"
TEST_ZCML = "collective.crontab.tests:testing.zcml"
ZEO_PORTS = range(listen_port(200), listen_port(300))
POSTGRESQL_PORTS = range(listen_port(300), listen_port(400))
CLIENTS = ("c1", "c2", "c3")


def free_port(ports):
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class Cluster(Layer):
    """A database server + a Plone site with collective.crontab + three
    client homes. A subclass starts and stops the server (the tests restart
    it), gives write_instance its storage (``storage``) and opens that
    storage in the test process (``open_db``)."""

    storage_name = ""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="crontab-cluster-"))
        try:
            self.start_server()
            self.homes = {
                name: write_instance(
                    self.dir / name, client=name, zcml=[TEST_ZCML], **self.storage
                )
                for name in CLIENTS
            }
            create_site(self.homes["c1"])
        except BaseException:
            self.tearDown()  # no server left running
            raise

    def tearDown(self):
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, name, *steps):
        """Start client process ``name`` doing ``steps`` (see zeo_client)."""
        home = self.homes[name]
        with open(home / "var" / "log" / "client.log", "a") as log:
            return subprocess.Popen(
                [
                    str(BIN / "zconsole"),
                    "run",
                    str(home / "etc" / "zope.conf"),
                    str(SCRIPT),
                    *steps,
                ],
                env=dict(os.environ, CRONTAB_CLIENT=name),
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def run(self, name, *steps, timeout=120):
        """Run client ``name`` to its end; its printed summaries."""
        process = self.client(name, *steps)
        out, _err = process.communicate(timeout=timeout)
        if process.returncode:
            raise RuntimeError(f"client {name} failed, see {self.homes[name]}")
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def write(self, name, data):
        path = self.dir / name
        path.write_text(json.dumps(data))
        return path

    def read(self, site_id="Plone"):
        """What the site holds now: {job id: [Run as dict]} and the titles
        of the documents created by test.slot-document."""
        db = self.open_db()
        try:
            manager = transaction.TransactionManager()
            connection = db.open(transaction_manager=manager)
            site = getattr(connection.root()["Application"], site_id)
            crontab = site.__annotations__["collective.crontab"]
            runs = defaultdict(list)
            for job_id, state in crontab.states.items():
                runs[job_id] = [run.as_dict() for run in state.runs.values()]
            titles = [
                item.title
                for item_id, item in site._tree.items()
                if item_id.startswith("run-")
            ]
            leases = {
                job_id: state.lease.as_dict()
                for job_id, state in crontab.states.items()
                if state.lease
            }
            manager.abort()
            connection.close()
        finally:
            db.close()
        return dict(runs), titles, leases


class ZeoCluster(Cluster):
    """runzeo with a FileStorage; the clients are ZEO clients."""

    storage_name = "ZEO"

    def setUp(self):
        self.port = free_port(ZEO_PORTS)
        self.address = f"127.0.0.1:{self.port}"
        self.storage = {"zeo": self.address}
        self.server = None
        super().setUp()

    def start_server(self):
        with open(self.dir / "zeo.log", "a") as log:
            self.server = subprocess.Popen(
                [
                    str(BIN / "runzeo"),
                    "-a",
                    self.address,
                    "-f",
                    str(self.dir / "Data.fs"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port)

    def stop_server(self):
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(30)
        self.server = None

    def open_db(self):
        import ZEO

        return ZEO.DB(("127.0.0.1", self.port))


class RelStorageCluster(Cluster):
    """A PostgreSQL server of its own (tests/postgres.py); the clients use
    RelStorage, history-preserving, blobs in the database."""

    storage_name = "RelStorage"

    def setUp(self):
        self.postgresql = PostgreSQL(free_port(POSTGRESQL_PORTS))
        self.postgresql.init()
        self.storage = {"relstorage": self.postgresql.dsn}
        super().setUp()

    def tearDown(self):
        super().tearDown()
        self.postgresql.remove()

    def start_server(self):
        self.postgresql.start()

    def stop_server(self):
        self.postgresql.stop()

    def open_db(self):
        from relstorage.adapters.postgresql import PostgreSQLAdapter
        from relstorage.options import Options
        from relstorage.storage import RelStorage

        import ZODB

        options = Options()
        adapter = PostgreSQLAdapter(dsn=self.postgresql.dsn, options=options)
        return ZODB.DB(RelStorage(adapter, options=options))


ZEO_CLUSTER = ZeoCluster(name="collective.crontab:ZeoCluster")
RELSTORAGE_CLUSTER = RelStorageCluster(name="collective.crontab:RelStorageCluster")
