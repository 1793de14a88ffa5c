"""A real ZEO cluster for the process tests: a ``runzeo`` server on
127.0.0.1, a Plone site created through a client instance, and client
processes (``zconsole run`` of tests/zeo_client.py) started on demand.

The test process itself reads the results through a plain ZEO client
connection, without loading Zope's configuration.
"""

from collections import defaultdict
from collective.crontab.instance import create_site
from collective.crontab.instance import write_instance
from collective.crontab.testing import listen_port
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
PORTS = range(listen_port(200), listen_port(300))
CLIENTS = ("c1", "c2", "c3")


def free_port():
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class ZeoCluster(Layer):
    """runzeo + a Plone site with collective.crontab + three client homes."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="crontab-zeo-"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.server = None
        self.start_server()
        self.homes = {
            name: write_instance(
                self.dir / name, zeo=self.address, client=name, zcml=[TEST_ZCML]
            )
            for name in CLIENTS
        }
        create_site(self.homes["c1"])

    def tearDown(self):
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)

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
        import ZEO

        db = ZEO.DB(("127.0.0.1", self.port))
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
                job_id: dict(state.lease)
                for job_id, state in crontab.states.items()
                if state.lease
            }
            manager.abort()
            connection.close()
        finally:
            db.close()
        return dict(runs), titles, leases


ZEO_CLUSTER = ZeoCluster(name="collective.crontab:ZeoCluster")
