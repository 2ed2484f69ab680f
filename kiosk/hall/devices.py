"""Where a printer may write: device files, never the server's own files.

Admins change printers at run time, so a printer's `devfile` (serial and file drivers) or preview
`directory` is input from a web form. Writing ticket bytes to any path the server can write would
let a form overwrite the database. The rules:

- a `devfile` is a device path (`/dev/usb/lp*`, `/dev/lp*`, `/dev/tty*`, `/dev/rfcomm*`), or a path
  listed at deploy time in `GILIRAN_PRINTER_DEVICES` (comma-separated; outside the admin pages);
- a preview `directory` is relative (it lives under the data directory), or listed there too;
- when a printer starts, its path must not lead (through links) into the data directory, and a
  device path must not be a regular file that exists unless it is listed (printers/devices.py).
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

DEVICE_PREFIXES = ("/dev/usb/lp", "/dev/lp", "/dev/tty", "/dev/rfcomm")
ALLOW_ENV = "GILIRAN_PRINTER_DEVICES"


def allowed_paths() -> set[str]:
    """The paths the deployment allows besides device paths (GILIRAN_PRINTER_DEVICES)."""
    return {p.strip() for p in os.environ.get(ALLOW_ENV, "").split(",") if p.strip()}


def devfile_problem(path: str) -> str | None:
    """Why a `devfile` from the hall document cannot be used, or None."""
    if path in allowed_paths():
        return None
    pure = PurePosixPath(path)
    if not pure.is_absolute() or ".." in pure.parts or not path.startswith(DEVICE_PREFIXES):
        return (f"'{path}' is not a printer device (/dev/usb/lp0, /dev/ttyUSB0, ...); other paths must be "
                f"listed in {ALLOW_ENV} when the server is deployed")
    return None


def directory_problem(path: str) -> str | None:
    """Why a preview `directory` from the hall document cannot be used, or None."""
    if path in allowed_paths():
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        return (f"'{path}' must be a folder name under the data directory (e.g. prints); other folders must "
                f"be listed in {ALLOW_ENV} when the server is deployed")
    return None
