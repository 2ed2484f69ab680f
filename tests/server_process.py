"""Start the real `giliran serve` in a subprocess (for crash and start-up tests)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

HALL_TOML = """
[hall]
name = "MPP Uji Ketahanan"
timezone = "Asia/Jakarta"
public_url = "http://127.0.0.1"

[limits]
tickets_per_minute = 1000000
ticket_burst = 1000000
connections_per_address = 100000

[[agencies]]
code = "DUKCAPIL"
name = "Disdukcapil"

[[services]]
code = "A"
name = "KTP Elektronik"
agency = "DUKCAPIL"

[[services]]
code = "B"
name = "Kartu Keluarga"
agency = "DUKCAPIL"

[[counters]]
id = "1"
name = "Loket 1"
services = ["A", "B"]

[[counters]]
id = "2"
name = "Loket 2"
services = ["A", "B"]
"""


def write_hall(directory: Path) -> Path:
    """A small hall file whose flood limit lets a test hammer the server."""
    path = directory / "hall.toml"
    path.write_text(HALL_TOML, encoding="utf-8")
    return path


async def run_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `python -m kiosk ARGS` to completion."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None), 60)
    return proc.returncode or 0, out.decode(), err.decode()


class ServerProcess:
    """One `giliran serve` process on a free loopback port."""

    def __init__(self, config: Path, db: Path | str, env: dict[str, str] | None = None,
                 argv: list[str] | None = None, log: Path | None = None) -> None:
        self.config = config
        self.db = db
        self.env = env or {}
        # Another server speaking the same READY line (the benchmarks' baselines).
        self.argv = argv or ["-m", "kiosk", "serve", "--config", str(config), "--db", str(db),
                             "--host", "127.0.0.1", "--port", "0"]
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        # The server's log, for a failing test to read.
        self.log = log or (db.with_suffix(".log") if isinstance(db, Path) else config.with_name("server.log"))

    async def start(self, timeout: float = 30) -> str:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *self.argv, stdout=asyncio.subprocess.PIPE, stderr=log,
                env=os.environ | {"PYTHONUNBUFFERED": "1"} | self.env)
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("server exited before it was ready")
                if line.startswith("GILIRAN_READY port="):
                    self.url = f"http://127.0.0.1:{int(line.split('=')[1])}"
                    return self.url

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM and wait for a clean exit."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 20)
        return self.proc.returncode or 0
