"""Before a printer writes to a path: never into the server's data directory, never a regular file
that is not listed in GILIRAN_PRINTER_DEVICES (the rules on the hall document: kiosk/hall/devices.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kiosk.hall.devices import allowed_paths


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, with its links followed, is `folder` or under it."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == base or base in real.parents


def device_refusal(path: str, data_dir: Path) -> str | None:
    """Why the printer must not write to `path` now (checked when it starts), or None."""
    if inside(Path(path), data_dir):
        return f"'{path}' menunjuk ke folder data server; printer tidak dipakai"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # not there (yet): the printer is offline, its jobs wait
    if stat.S_ISREG(mode) and path not in allowed_paths():
        return f"'{path}' adalah berkas biasa, bukan perangkat printer; printer tidak dipakai"
    return None
