"""Ephemeral PostgreSQL 16 servers the harness creates, loads and deletes itself.

The binaries come from the ``pgserver`` wheel, but its ``get_server`` is not used: it serves a
unix socket with trust auth only and keeps process-global locks. Here the wheel's ``initdb``,
``pg_ctl`` and ``psql`` are driven directly, so a cluster can listen on TCP, demand a
password and be thrown away with its folder.

PostgreSQL refuses to run as root, so under root every binary runs as the unprivileged
``pgserver`` user, from links to the wheel's files inside a cluster folder handed to it; no
folder cutover did not create is widened (:mod:`harness.embedded.server_user`).

A cluster outlives no process that started it: its folder records its owner, and a later start
reaps clusters whose owner is gone (:mod:`harness.embedded.reaper`: ``kill -9``); SIGTERM
unwinds the process like Ctrl-C while it owns a cluster, and a stop is never cut in half by a
signal (:mod:`harness.embedded.interrupts`).

``tls=True`` puts a TLS front on the cluster (:mod:`harness.embedded.tls_front`: the wheel's
server is built without OpenSSL, so ``ssl=on`` cannot be set on it), with a self-signed
certificate made here (``cryptography``) for ``localhost``, ``127.0.0.1`` and any
``tls_names``. Clients reach it on :attr:`PostgresCluster.tls_port` and may use
:attr:`PostgresCluster.ca_file` as ``sslrootcert``, so ``sslmode=require`` and ``verify-full``
are both really negotiated; the plain port keeps working for the harness's own loading."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from harness.embedded import interrupts, reaper
from harness.embedded.reaper import CLUSTER_PREFIX, SOCKET_PREFIX, Owner
from harness.embedded.server_user import (
    blocking_folder,
    mirror_binaries,
    reachable_base,
    server_ids,
    wheel,
)
from harness.errors import ProvisionError

__all__ = ["PostgresCluster", "postgres_bin"]

_TIMEOUT = 30  # seconds for initdb / pg_ctl; a healthy start takes well under 2 s
_LOAD_TIMEOUT = 900  # seconds for one psql script; Chinook-sized dumps take a few seconds
_PSQL_ERROR = re.compile(r"^psql:(?P<where>.+?:\d+): (?:ERROR|FATAL):\s+(?P<message>.*)$")
_BIND_ATTEMPTS = 3
_SOCKET_PORT = 5432  # a socket-only cluster's port just names the socket file in a private dir
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
# Ephemeral clusters need no durability; these keep a 2-core CI box responsive. UTC makes
# timestamptz text identical whatever the host's zone.
_SETTINGS = (
    "fsync=off synchronous_commit=off full_page_writes=off shared_buffers=64MB"
    " max_connections=50 max_wal_size=256MB TimeZone=UTC"
)


def postgres_bin(name: str) -> Path:
    """Return the path of the ``pgserver`` wheel's PostgreSQL binary ``name`` (e.g. ``psql``)."""
    path = wheel()[0] / name
    if not path.is_file():
        raise ProvisionError(f"{path} does not exist; fix: pip install --force-reinstall pgserver")
    return path


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env(password: str | None) -> dict[str, str]:
    """Return the environment for a wheel binary: no inherited PG* settings, our password."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["PGCLIENTENCODING"] = "UTF8"
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _meaningful(text: str, *, limit: int = 3) -> str:
    """Return the last few error lines of a log or stderr, joined into one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if any(k in line for k in ("FATAL", "ERROR", "PANIC"))]
    return " | ".join((errors or lines)[-limit:]) or "(no output)"


def _short_socket_dir(ids: tuple[int, int] | None) -> Path:
    """A socket folder with a path short enough for ``sun_path``, where the server can reach."""
    for candidate in (Path("/tmp"), Path(tempfile.gettempdir())):
        reachable = ids is None or blocking_folder(candidate, ids) is None
        if len(str(candidate)) + 40 < _MAX_SOCKET_PATH and candidate.is_dir() and reachable:
            return Path(tempfile.mkdtemp(prefix=SOCKET_PREFIX, dir=candidate))
    raise ProvisionError(
        f"no folder for the server's socket has a path under {_MAX_SOCKET_PATH} characters; "
        "fix: set TMPDIR to a short path"
    )


class PostgresCluster:
    """An ephemeral PostgreSQL 16 server the harness owns (created, written and deleted by it)."""

    def __init__(
        self,
        *,
        base_dir: Path | None = None,
        tcp: bool = False,
        password: str | None = None,
        tls: bool = False,
        tls_names: tuple[str, ...] = (),
    ) -> None:
        """Prepare a cluster in a fresh folder under ``base_dir`` (default: the temp dir).

        Under root the server user must already be able to reach ``base_dir``; without one,
        the first of TMPDIR, ``/tmp`` and ``/var/tmp`` it can reach is used. Avoid pytest's
        ``tmp_path`` there: every pytest session resets ``/tmp/pytest-of-root`` to 0700.
        """
        self._ids = server_ids()  # (uid, gid) to run binaries as: None unless root
        base = reachable_base(base_dir, self._ids)
        # A fresh folder even inside a caller's base_dir, so stop() only ever deletes our own.
        self._root = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir=base)).resolve()
        self._tcp = tcp
        self._password = password
        self._tls = tls
        self._tls_names = tls_names
        self._front: Any = None
        self._port = _SOCKET_PORT
        self._log = self._root / "server.log"
        self._socket_dir = self._root / "run"
        self._extra_dirs: list[Path] = []
        if len(str(self._socket_dir / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            self._socket_dir = _short_socket_dir(self._ids)
            self._extra_dirs.append(self._socket_dir)
        # Before anything that could outlive us: who owns this folder (harness.embedded.reaper).
        Owner.this_process(extra=tuple(self._extra_dirs)).write(self._root)
        self._socket_dir.mkdir(exist_ok=True)
        self._bin_dir = postgres_bin("postgres").parent
        self._held = False  # whether SIGTERM unwinds this process for us (interrupts.hold)
        atexit.register(self.stop)  # a cluster forgotten by its caller must not outlive Python

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        """Create the data dir and start the server; raise ProvisionError with the log's gist.

        First, clusters beside this one whose owner process is gone are stopped and deleted.
        """
        if self.running:
            return self
        if not self._root.exists():
            raise ProvisionError(f"{self._root} was deleted by stop(); create a new cluster")
        if not self._held:
            interrupts.hold()
            self._held = True
        try:
            reaper.reap(self._root.parent)
            if self._ids is not None:
                self._bin_dir = mirror_binaries(self._root / "pg")
                self._hand_over_folders(*self._ids)
            self._initdb()
            for attempt in range(1, _BIND_ATTEMPTS + 1):
                if self._tcp:
                    self._port = _free_port()
                self._pg_ctl_or_raise("start", "-o", f"-p {self._port}", attempt=attempt)
                if self.running:
                    break
            if self._tls:
                self._start_front()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast mode) and delete its folder; safe to call any number of times.

        SIGINT and SIGTERM wait until it is done (then reach their handlers as usual)."""
        try:
            with interrupts.deferred():
                self._stop()
        finally:
            if self._held:
                self._held = False
                interrupts.release()

    def _stop(self) -> None:
        if self._front is not None:
            self._front.stop()
            self._front = None
        if self.running:
            self._pg_ctl("stop", "-m", "fast")
        # pg_ctl failed (e.g. a folder above ours lost o+x for the server user): SIGQUIT, as
        # pg_ctl -m immediate. Deleting the folder under a live server would strand it for good.
        if not reaper.stop_postmaster(self.data_dir):
            return  # still running: the folder stays for a later start to reap
        for folder in (self._root, *self._extra_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        atexit.unregister(self.stop)

    def restart(self) -> None:
        """Restart the server in place (same port, same data), e.g. to inject a fault."""
        self._pg_ctl_or_raise("restart", "-m", "fast")

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where it is -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """Where clients connect: ``127.0.0.1`` for a TCP cluster, else the socket dir."""
        return "127.0.0.1" if self._tcp else str(self._socket_dir)

    @property
    def port(self) -> int:
        """The server's port (for a socket-only cluster it only names the socket file)."""
        return self._port

    @property
    def socket_dir(self) -> Path:
        """The folder holding the unix socket; every cluster has one, TCP or not."""
        return self._socket_dir

    @property
    def ca_file(self) -> Path:
        """The TLS front's self-signed certificate, for ``sslrootcert`` (``tls=True`` only)."""
        if not self._tls:
            raise ProvisionError("this cluster has no TLS; fix: PostgresCluster(tls=True)")
        return self._root / "ca.crt"

    @property
    def tls_port(self) -> int:
        """Where TLS clients connect on 127.0.0.1 (``tls=True`` clusters, once started)."""
        if self._front is None:
            raise ProvisionError("no TLS front: PostgresCluster(tcp=True, tls=True), started")
        port: int = self._front.port
        return port

    @property
    def data_dir(self) -> Path:
        """The cluster's PGDATA."""
        return self._root / "data"

    @property
    def running(self) -> bool:
        """Whether the postmaster named in ``postmaster.pid`` is alive."""
        return self._postmaster_pid() is not None

    def conninfo(
        self,
        dbname: str = "postgres",
        *,
        user: str = "postgres",
        password: str | None = None,
        tcp: bool | None = None,
    ) -> str:
        """Return a libpq ``key=value`` conninfo; ``password=None`` means the cluster's own."""
        params = self._params(dbname, user=user, tcp=tcp)
        secret = self._password if password is None else password
        if secret is not None:
            params["password"] = secret
        return make_conninfo("", **params)

    # -- using it ----------------------------------------------------------------------------

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally cloned from ``template``); return its conninfo."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        hint = "; fix: close every connection to the template first" if template else ""
        self._execute(query, f"creating database {name!r}", hint)
        return self.conninfo(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self._execute(query, f"dropping database {name!r}")

    def server_version(self) -> str:
        """Return ``SHOW server_version``, e.g. ``16.4``."""
        return self._execute("SHOW server_version", "reading the server version")

    def run_sql_file(self, path: Path, *, dbname: str = "postgres") -> None:
        """Run a SQL script with the wheel's psql, so meta-commands such as ``\\c`` work.

        The script goes through stdin: the unprivileged server user may be unable to read the
        caller's files, and chmod-ing them would be a side effect nobody asked for.
        """
        target = make_conninfo("", **self._params(dbname, user="postgres", tcp=None))
        try:
            with path.open("rb") as script:
                args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", "-d", target]
                code, stderr = self._run("psql", *args, stdin=script, timeout=_LOAD_TIMEOUT)
        except OSError as exc:
            raise ProvisionError(f"loading {path}: {exc.strerror or exc}") from None
        if code != 0:
            lines = [ln.strip() for ln in stderr.replace("<stdin>", str(path)).splitlines()]
            errors = [ln for ln in lines if "ERROR" in ln or "FATAL" in ln or "error:" in ln]
            first = next(iter(errors + [ln for ln in lines if ln]), f"psql exited with {code}")
            # psql says "psql:FILE:LINE: ERROR:  message"; show "FILE:LINE: message".
            located = _PSQL_ERROR.match(first)
            if located:
                raise ProvisionError(f"{located['where']}: {located['message']}")
            raise ProvisionError(f"loading {path}: {first}")

    # -- helpers -----------------------------------------------------------------------------

    def _postmaster_pid(self) -> int | None:
        """Return the pid of the live postmaster serving data_dir, if any."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def _params(self, dbname: str, *, user: str, tcp: bool | None) -> dict[str, Any]:
        """Return connection parameters without a password."""
        if tcp and not self._tcp:
            raise ProvisionError("this cluster has no TCP listener; fix: PostgresCluster(tcp=True)")
        use_tcp = self._tcp if tcp is None else tcp
        host = "127.0.0.1" if use_tcp else str(self._socket_dir)
        return {"host": host, "port": self._port, "dbname": dbname, "user": user}

    def _execute(self, query: sql.Composed | str, doing: str, hint: str = "") -> str:
        """Run one statement on ``postgres`` in autocommit; return row one's first column."""
        try:
            conninfo = self.conninfo("postgres")
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                cursor = conn.execute(query)
                row = cursor.fetchone() if cursor.description else None
        except psycopg.Error as exc:
            raise ProvisionError(f"{doing}: {str(exc).strip().splitlines()[0]}{hint}") from None
        return "" if row is None else str(row[0])

    def _hand_over_folders(self, uid: int, gid: int) -> None:
        """Give the server user the folders cutover made for it (root can still delete them);
        the folders above them are left as they are (see harness.embedded.server_user)."""
        for folder in (self._root, self._socket_dir):
            os.chown(folder, uid, gid)

    def _initdb(self) -> None:
        args = ["-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        pwfile = self._root / "pwfile"
        if self._password is None:
            args.append("--auth=trust")
        else:
            # A file, not argv: command lines are visible to every local user.
            pwfile.write_text(self._password + "\n")
            if self._ids is not None:
                os.chown(pwfile, *self._ids)
            args += [f"--pwfile={pwfile}", "--auth=scram-sha-256"]
        try:
            code, output = self._run("initdb", "-D", str(self.data_dir), *args)
        finally:
            pwfile.unlink(missing_ok=True)
        if code != 0:
            raise ProvisionError(f"initdb {self.data_dir} failed: {_meaningful(output)}")
        settings = dict(pair.split("=") for pair in _SETTINGS.split())
        settings["listen_addresses"] = "127.0.0.1" if self._tcp else ""
        settings["unix_socket_directories"] = str(self._socket_dir)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# cutover: ephemeral cluster\n")
            for key, value in settings.items():
                conf.write(f"{key} = '{value.replace(chr(39), chr(39) * 2)}'\n")

    def _start_front(self) -> None:
        """Start the TLS front before the backend port; the key stays in our own folder."""
        from harness.embedded.tls_front import TlsFront

        if not self._tcp:
            raise ProvisionError(
                "a TLS cluster needs TCP; fix: PostgresCluster(tcp=True, tls=True)"
            )
        cert, key = self_signed_certificate(("localhost", "127.0.0.1", *self._tls_names))
        key_file = self._root / "front.key"
        key_file.touch(mode=0o600)
        key_file.write_bytes(key)
        self.ca_file.write_bytes(cert)
        self._front = TlsFront(("127.0.0.1", self._port), cert_file=self.ca_file, key_file=key_file)
        self._front.start()

    def _pg_ctl_or_raise(self, action: str, *args: str, attempt: int = _BIND_ATTEMPTS) -> None:
        """Run ``pg_ctl action``; raise with the gist of what the server logged meanwhile.

        Attempts before the last one return quietly when the port was taken between
        _free_port() and the bind, so start() can try another port.
        """
        offset = self._log.stat().st_size if self._log.exists() else 0
        code, output = self._pg_ctl(action, *args)
        if code == 0:
            return
        logged = (
            self._log.read_bytes()[offset:].decode(errors="replace") if self._log.exists() else ""
        )
        if "could not bind" in logged and attempt < _BIND_ATTEMPTS:
            return
        gist = _meaningful(logged + "\n" + output)
        raise ProvisionError(f"could not {action} PostgreSQL in {self.data_dir}: {gist}")

    def _pg_ctl(self, action: str, *args: str) -> tuple[int, str]:
        # -l on every call: without it the postmaster would write to pg_ctl's stderr.
        log = ["-l", str(self._log), "-w", "-t", str(_TIMEOUT)]
        return self._run("pg_ctl", action, "-D", str(self.data_dir), *log, *args)

    def _run(
        self,
        binary: str,
        *args: str,
        stdin: IO[bytes] | None = None,
        timeout: float = _TIMEOUT + 10,
    ) -> tuple[int, str]:
        """Run a wheel binary as the server user; return its exit code and its stderr."""
        # A temporary file rather than a pipe: a pipe inherited by the postmaster never closes.
        # group and extra_groups too: user= alone would leave the child in root's groups.
        uid, gid = self._ids or (None, None)
        with tempfile.TemporaryFile() as err:
            try:
                code = subprocess.run(
                    [str(self._bin_dir / binary), *args],
                    stdin=stdin or subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                    env=_child_env(self._password), cwd=self._root,
                    user=uid, group=gid, extra_groups=None if uid is None else [],
                    timeout=timeout, check=False,
                ).returncode  # fmt: skip
            except subprocess.TimeoutExpired:
                err.write(f"ERROR: {binary} did not finish within {timeout} s\n".encode())
                code = -1
            err.seek(0)
            return code, err.read().decode(errors="replace")


def self_signed_certificate(names: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A PEM certificate (its own CA) valid for ``names`` (DNS names or IPs) and its key."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
