"""The display's playlist files: images and videos admins upload, kept beside the database
(var/media/) and served by the hall server itself (no external asset, works offline).

A file is accepted by what its first bytes say it is (PNG, JPEG, GIF, WebP, MP4, WebM), never by
the name it came with; it is stored under a name of our own making that the hall document's
`[display] playlist` lists.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from aiohttp import BodyPartReader

from kiosk.hall.config import MEDIA_NAME
from kiosk.queue.errors import NotFound, Unprocessable

MAX_BYTES = 200 * 1024 * 1024  # a few minutes of HD video
CHUNK = 256 * 1024
TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
         "mp4": "video/mp4", "webm": "video/webm"}


def sniff(head: bytes) -> str | None:
    """The extension of a file by its first bytes, for the kinds a display plays."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def safe_stem(filename: str) -> str:
    """A file name people recognise, reduced to letters, digits and '-' (at most 40)."""
    stem = Path(filename or "tayangan").stem.lower()
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:40].strip("-")
    return stem or "tayangan"


class MediaStore:
    """The folder of the display's files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        """The file of a playlist name (404 for anything else)."""
        if not MEDIA_NAME.match(name) or not (self.folder / name).is_file():
            raise NotFound("Berkas tayangan tidak ditemukan.", code="unknown_media")
        return self.folder / name

    async def save(self, part: BodyPartReader) -> str:
        """Stream an uploaded file to the folder; its new name (422 when it is no image or video we play)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".upload-{secrets.token_hex(8)}"
        size, head = 0, b""
        try:
            with partial.open("wb") as out:
                while chunk := await part.read_chunk(CHUNK):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise Unprocessable(f"Berkas terlalu besar (paling besar {MAX_BYTES // 2**20} MB).",
                                            code="media_too_large")
                    if len(head) < 16:
                        head += chunk[:16 - len(head)]
                    out.write(chunk)
            kind = sniff(head)
            if kind is None:
                raise Unprocessable("Berkas harus gambar (PNG, JPG, GIF, WebP) atau video (MP4, WebM).",
                                    code="media_type")
            name = f"{safe_stem(part.filename or '')}-{secrets.token_hex(3)}.{kind}"
            partial.replace(self.folder / name)
            return name
        finally:
            partial.unlink(missing_ok=True)

    def remove(self, name: str) -> None:
        """Delete a file (a name that is not a media file name is ignored)."""
        if MEDIA_NAME.match(name):
            (self.folder / name).unlink(missing_ok=True)
