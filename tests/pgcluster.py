"""A throwaway PostgreSQL cluster for tests (Debian's server binaries, no systemd): initdb into a
temporary folder, pg_ctl on a free loopback port; as root through the unprivileged `postgres` user.
tools/pgtest.sh does the same for CI from the shell."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

OWNER = "postgres"


def server_binaries() -> str | None:
    """The newest installed PostgreSQL server's bin folder (None when there is none)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return dirs[-1] if dirs and os.path.exists(f"{dirs[-1]}/initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One cluster: `start()`, `stop()`, `start()` again (same data), `destroy()`."""

    def __init__(self) -> None:
        bindir = server_binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bindir = bindir
        # Not pytest's tmp_path: as root that is under /tmp/pytest-of-root (0700), closed to postgres.
        self.base = tempfile.mkdtemp(prefix="giliran-pg-")
        self.env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8",
                        PATH="/usr/sbin:/usr/bin:/sbin:/bin:" + os.environ.get("PATH", ""))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam(OWNER)  # created by the postgresql package
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", OWNER, "--"]
        self.port = _free_port()
        self.data = f"{self.base}/data"
        self._run("mkdir", f"{self.base}/sock")
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--locale=C.UTF-8",
                  "-E", "UTF8", "--no-sync")

    def _run(self, *argv: str, check: bool = True) -> None:
        subprocess.run([*self.prefix, *argv], cwd=self.base, env=self.env, check=check,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, database: str = "postgres") -> str:
        """A URL for a database of this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start (or start again after stop)."""
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-l", f"{self.base}/server.log", "-w", "-t", "60",
                  "-o", f"-k {self.base}/sock -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=on "
                        f"-c max_connections=300", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop: `fast` ends every session at once (as a restart or failover does)."""
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        """Stop and remove everything."""
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
