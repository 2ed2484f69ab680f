"""Server-side speech with espeak-ng (offline), cached per sentence; browsers speak when it is absent."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

MAX_KNOWN = 2000
SYNTH_TIMEOUT_S = 15.0


class Speech:
    """Turns call-out sentences into WAV files; only sentences the server made itself."""

    def __init__(self, cache_dir: Path, voice: str = "id", binary: str | None = None) -> None:
        self.cache_dir = cache_dir
        self.voice = voice
        self.binary = binary if binary is not None else shutil.which("espeak-ng")
        self._known: OrderedDict[str, str] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(2)

    @property
    def available(self) -> bool:
        """Whether espeak-ng is installed."""
        return bool(self.binary)

    def key(self, text: str) -> str:
        """A stable file name for a sentence in this voice."""
        return hashlib.sha256(f"{self.voice}\n{text}".encode()).hexdigest()[:32]

    def register(self, text: str) -> str:
        """Remember a sentence so its audio may be asked for; returns its key."""
        key = self.key(text)
        self._known[key] = text
        self._known.move_to_end(key)
        while len(self._known) > MAX_KNOWN:
            self._known.popitem(last=False)
        return key

    def path(self, key: str) -> Path:
        """Where a sentence's audio is cached."""
        return self.cache_dir / f"{key}.wav"

    async def audio(self, key: str) -> Path | None:
        """The WAV file of a known sentence, synthesised on first use; None if unknown or failing."""
        path = self.path(key)
        if path.exists():
            return path
        text = self._known.get(key)
        if text is None or not self.binary:
            return None
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock, self._slots:
            if path.exists():
                return path
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            proc = await asyncio.create_subprocess_exec(
                self.binary, "-v", self.voice, "-s", "150", "-w", str(partial), text,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            try:
                _, err = await asyncio.wait_for(proc.communicate(), SYNTH_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                log.warning("espeak-ng took too long for %r", text)
                return None
            finally:
                self._locks.pop(key, None)
            if proc.returncode != 0 or not partial.exists():
                log.warning("espeak-ng failed (%s): %s", proc.returncode, err.decode(errors="replace").strip())
                return None
            partial.replace(path)
            return path
