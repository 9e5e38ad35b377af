"""A throwaway PostgreSQL cluster for the test suite.

``PgCluster`` runs ``initdb`` into a fresh temporary directory and starts the server with
``pg_ctl`` on a free TCP port on 127.0.0.1 (and a Unix socket inside that directory, never the
system one). Durability is switched off (``fsync``, ``synchronous_commit``,
``full_page_writes``): the data is thrown away anyway. ``stop()`` runs
``pg_ctl stop -m immediate`` and deletes the directory.

The cluster never outlives the process that started it:

* ``stop()`` (or leaving the ``with`` block) is the normal path;
* an ``atexit`` hook stops it when the interpreter exits without calling ``stop()``;
* a tiny watchdog (``sh``, in its own session) holds the read end of a pipe whose write end only
  this process holds; when this process dies in any way, even ``SIGKILL``, the pipe reaches
  EOF and the watchdog stops the server and removes the directory.

``initdb`` and ``pg_ctl`` refuse to run as root. As root they run as the ``postgres`` system
user through ``runuser`` (the temporary directory is chowned to it); as anyone else they run
directly.

Usage::

    with PgCluster() as cluster:
        cluster.create_database("app")
        engine = sqlalchemy.create_engine(cluster.url("app"))
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
HOST = "127.0.0.1"
# Longest path for the Unix socket directory: sun_path holds 107 bytes, ".s.PGSQL.NNNNN" needs 15.
_MAX_SOCKET_DIR = 90
_PORT_IN_USE = ("could not create any TCP/IP sockets", "Address already in use")


class PgClusterError(RuntimeError):
    """The throwaway cluster could not be created, started or used."""


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: "15" -> (15,), "9.6" -> (9, 6); junk sorts first.
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (-1,)


def _has_server_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl"))


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is absent.

    The newest ``/usr/lib/postgresql/*/bin`` wins (Debian, Ubuntu); otherwise
    ``pg_config --bindir`` of the ``pg_config`` on ``$PATH``; otherwise the directory of an
    ``initdb`` on ``$PATH``.
    """
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bindir in debian:
        if _has_server_tools(bindir):
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and _has_server_tools(Path(out)):
            return Path(out)
    initdb = shutil.which("initdb")
    if initdb and _has_server_tools(Path(initdb).parent):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _traversable_by_others(path: Path) -> bool:
    """Whether every ancestor of ``path`` lets other users through (o+x)."""
    for directory in (path, *path.parents):
        try:
            if not directory.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


class PgCluster:
    """A private PostgreSQL cluster in a temporary directory; see the module docstring."""

    def __init__(self, bindir: Path | None = None, *, start_timeout: float = 30.0) -> None:
        found = bindir or find_pg_bin()
        if found is None:
            raise PgClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bindir: Path = found
        self.start_timeout = start_timeout
        self.port: int | None = None
        self.base_dir: Path | None = None
        self._as_root = os.geteuid() == 0
        self._owner_pid = os.getpid()
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._watchdog_fd: int | None = None
        self._templates: dict[Callable[[str], None], str] = {}

    # -- paths ------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._base() / "data"

    @property
    def log_file(self) -> Path:
        return self._base() / "server.log"

    def _base(self) -> Path:
        if self.base_dir is None:
            raise PgClusterError("the cluster is not started")
        return self.base_dir

    def server_log(self) -> str:
        """The server log so far (empty when there is none)."""
        try:
            return self.log_file.read_text(errors="replace")
        except (OSError, PgClusterError):
            return ""

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.port is not None

    def start(self) -> None:
        """initdb, start the server, wait until it accepts connections."""
        if self.base_dir is not None:
            raise PgClusterError("the cluster is already started")
        self._owner_pid = os.getpid()
        self.base_dir = self._make_base_dir()
        atexit.register(self.stop)
        try:
            self._start_watchdog()
            self._initdb()
            self._start_server()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (``-m immediate``) and remove its directory; safe to call twice."""
        atexit.unregister(self.stop)
        if self._owner_pid != os.getpid():
            return  # a forked child: the cluster belongs to the parent
        base, self.base_dir, self.port = self.base_dir, None, None
        self._templates.clear()
        try:
            if base is not None and (base / "data" / "postmaster.pid").exists():
                subprocess.run(
                    self._cmd("pg_ctl", "stop", "-D", str(base / "data"), "-m", "immediate", "-s"),
                    cwd=base,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        finally:
            if base is not None:
                shutil.rmtree(base, ignore_errors=True)
            if self._watchdog is not None:
                self._watchdog.kill()  # before closing the pipe, so it does not run its stop
                self._watchdog.wait()
                self._watchdog = None
            if self._watchdog_fd is not None:
                os.close(self._watchdog_fd)
                self._watchdog_fd = None

    def _make_base_dir(self) -> Path:
        parent = Path(tempfile.gettempdir())
        too_long = len(str(parent)) > _MAX_SOCKET_DIR - 30
        if too_long or (self._as_root and not _traversable_by_others(parent)):
            parent = Path("/tmp")
        base = Path(tempfile.mkdtemp(prefix="agent-tui-pg-", dir=parent))
        if self._as_root:
            try:
                user = pwd.getpwnam(SUPERUSER)
            except KeyError:
                shutil.rmtree(base, ignore_errors=True)
                raise PgClusterError(
                    "running as root, but there is no 'postgres' system user to run initdb as"
                ) from None
            os.chown(base, user.pw_uid, user.pw_gid)
        return base

    def _cmd(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        return ["runuser", "-u", SUPERUSER, "--", *command] if self._as_root else command

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # cwd: the tools call getcwd(), which fails for the postgres user in e.g. /root.
        return subprocess.run(
            self._cmd(tool, *args),
            cwd=self._base(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _start_watchdog(self) -> None:
        read_fd, write_fd = os.pipe()  # both non-inheritable: no other child keeps them open
        stop = self._cmd("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-s")
        script = 'cat >/dev/null; base=$1; shift; "$@"; rm -rf -- "$base"'
        try:
            self._watchdog = subprocess.Popen(
                ["sh", "-c", script, "pg-watchdog", str(self._base()), *stop],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self._base(),
                start_new_session=True,  # a Ctrl-C aimed at pytest must not kill it
            )
        finally:
            os.close(read_fd)
        self._watchdog_fd = write_fd

    def _initdb(self) -> None:
        common = ["-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"]
        common += ["--no-sync", "--no-instructions"]
        result = self._run("initdb", *common, "--locale=C.UTF-8")
        if result.returncode != 0 and "locale" in result.stderr.lower():
            shutil.rmtree(self.data_dir, ignore_errors=True)
            result = self._run("initdb", *common, "--no-locale")
        if result.returncode != 0:
            raise PgClusterError(f"initdb failed ({result.returncode}):\n{result.stderr}")

    def _options(self, port: int) -> str:
        return " ".join(
            [
                f"-p {port}",
                f"-c listen_addresses={HOST}",
                f"-c unix_socket_directories='{self._base()}'",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )

    def _pg_ctl_start(self, port: int) -> subprocess.CompletedProcess[str]:
        return self._run(
            "pg_ctl",
            *("start", "-D", str(self.data_dir), "-l", str(self.log_file)),
            *("-o", self._options(port)),
            *("-w", "-t", str(max(1, round(self.start_timeout))), "-s"),
            timeout=self.start_timeout + 10,
        )

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server but keep the cluster (``start_server`` brings it back on the same
        port): a database restart or outage, as the clients see it."""
        if self.port is None:
            raise PgClusterError("the cluster is not started")
        result = self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-s")
        if result.returncode != 0:
            raise PgClusterError(f"pg_ctl stop failed: {result.stderr}")

    def start_server(self) -> None:
        """Start a server stopped by ``stop_server`` again, on the same port."""
        if self.port is None:
            raise PgClusterError("the cluster is not started")
        result = self._pg_ctl_start(self.port)
        if result.returncode != 0:
            raise PgClusterError(f"pg_ctl start failed: {result.stderr}\n{self.server_log()}")
        self._wait_until_ready()

    def _start_server(self) -> None:
        for _attempt in range(5):
            port = _free_port()
            result = self._pg_ctl_start(port)
            if result.returncode == 0:
                self.port = port
                return
            log = self.server_log()
            if not any(marker in log for marker in _PORT_IN_USE):
                raise PgClusterError(
                    f"pg_ctl start failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                    f"\n--- server log ({self.log_file}) ---\n{log}"
                )
            # Someone took the port between _free_port() and the bind: try another one.
        raise PgClusterError(
            f"no free port after 5 attempts\n--- server log ---\n{self.server_log()}"
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise PgClusterError(
                        f"PostgreSQL on {HOST}:{self.port} did not accept connections within "
                        f"{self.start_timeout:g} s: {error}\n"
                        f"--- server log ({self.log_file}) ---\n{self.server_log()}"
                    ) from error
                time.sleep(0.02)

    # -- use --------------------------------------------------------------------------------

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit psycopg connection as the superuser (close it, or use ``with``)."""
        if self.port is None:
            raise PgClusterError("the cluster is not started")
        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )

    def url(self, dbname: str = "postgres") -> str:
        """The SQLAlchemy URL of database ``dbname``."""
        if self.port is None:
            raise PgClusterError("the cluster is not started")
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name [TEMPLATE template]`` (default template: template1, empty)."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name``, closing its connections first (WITH (FORCE))."""
        with self.connect() as conn:
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force)

    def template(self, prepare: Callable[[str], None]) -> str:
        """The name of a template database prepared by ``prepare(url)``, made once per callable.

        ``prepare`` receives the SQLAlchemy URL of a fresh empty database (run migrations
        there). Afterwards its leftover connections are closed and the database is marked
        ``IS_TEMPLATE true ALLOW_CONNECTIONS false``, so clones (``create_database(name,
        template=...)``) cannot fail with "source database is being accessed by other users".
        The cache is keyed on the callable object: pass a module-level function, not a lambda
        made anew per test.
        """
        name = self._templates.get(prepare)
        if name is not None:
            return name
        label = re.sub(r"[^a-z0-9]+", "_", getattr(prepare, "__name__", "prepare").lower())
        name = f"tmpl_{label[:40]}_{uuid.uuid4().hex[:8]}"
        self.create_database(name)
        try:
            prepare(self.url(name))
            with self.connect() as conn:
                # Refuse new connections first, then close what prepare() left open (pools).
                conn.execute(
                    sql.SQL(
                        "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
                    ).format(sql.Identifier(name))
                )
                wait = sql.SQL(", 5000") if conn.info.server_version >= 140000 else sql.SQL("")
                conn.execute(
                    sql.SQL(
                        "SELECT pg_terminate_backend(pid{}) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()"
                    ).format(wait),
                    (name,),
                )
        except BaseException:
            with contextlib.suppress(Exception):
                self.drop_database(name)
            raise
        self._templates[prepare] = name
        return name

    def create_database_from(self, prepare: Callable[[str], None], name: str) -> None:
        """Create database ``name`` as a copy of ``template(prepare)``."""
        self.create_database(name, template=self.template(prepare))
