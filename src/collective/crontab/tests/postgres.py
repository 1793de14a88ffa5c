"""A PostgreSQL server for the RelStorage process tests and ``make
run-cluster STORAGE=relstorage``: Debian's ``postgresql`` binaries, a
cluster in a directory of its own (a temporary one for the tests), listening
on 127.0.0.1 only. PostgreSQL refuses to run as root, so as root (CI) the
server runs as the ``postgres`` user.

    python -m collective.crontab.tests.postgres DIR PORT

runs one in DIR (created the first time) until Ctrl-C.
"""

from pathlib import Path

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile


def pg_bin(name):
    """Path of the PostgreSQL program ``name``: on PATH, else Debian's newest
    /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} is missing: apt-get install postgresql "
            "(make test does)"
        )
    return candidates[-1]


class PostgreSQL:
    """A server with one database, ``zodb``, trusting local TCP logins."""

    database = "zodb"

    def __init__(self, port, directory=None):
        if directory is None:
            directory = tempfile.mkdtemp(prefix="crontab-pg-")
        self.dir = Path(directory).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = self.dir / "pgdata"
        self.port = port
        self.user = "postgres" if os.geteuid() == 0 else None
        self.dsn = (
            f"host=127.0.0.1 port={port} dbname={self.database} "
            f"user={self.user or pwd.getpwuid(os.geteuid()).pw_name}"
        )

    def _run(self, *command):
        subprocess.run(
            command,
            user=self.user,
            cwd=self.dir,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def init(self):
        """Create the cluster and its database (the server is left stopped)."""
        if self.user:
            shutil.chown(self.dir, self.user)
        self._run(
            pg_bin("initdb"),
            "-D",
            str(self.data),
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.start()
        try:
            self._run(
                pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                self.database,
            )
        finally:
            self.stop()

    def start(self):
        # fsync off: a test database; a server killed mid-transaction still
        # recovers from its WAL (only an OS crash could lose data).
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories='{self.dir}' -c fsync=off "
            "-c max_connections=50"
        )
        self._run(
            pg_bin("pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "postgresql.log"),
            "-o",
            options,
        )

    def stop(self):
        """Stop the server, "fast": it rolls back the open transactions and
        closes every client connection, as a restart in production does."""
        if (self.data / "postmaster.pid").exists():
            self._run(
                pg_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data)
            )

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main(directory, port):
    server = PostgreSQL(int(port), directory)
    ready = server.dir / "ready"
    ready.unlink(missing_ok=True)
    if not (server.data / "PG_VERSION").exists():
        server.init()
    server.start()
    ready.write_text(server.dsn + "\n")
    print(f"PostgreSQL on 127.0.0.1:{port}, dsn {server.dsn}", flush=True)
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ready.unlink(missing_ok=True)
        server.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
