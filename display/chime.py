"""The two-tone chime played before each call-out, made here so no audio file needs vendoring."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

RATE = 22050


@cache
def chime_wav() -> bytes:
    """A soft 'ding-dong' (E5 then C5, bell-like decay), 16-bit mono WAV, about 1.3 s."""
    frames = bytearray()
    for freq, length in ((659.25, 0.55), (523.25, 0.8)):
        count = int(RATE * length)
        for i in range(count):
            t = i / RATE
            envelope = math.exp(-3.2 * t) * min(1.0, i / 200)
            sample = envelope * (0.6 * math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t))
            frames += struct.pack("<h", int(sample * 0.7 * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return out.getvalue()
