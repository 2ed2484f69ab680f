"""Short Indonesian messages for each stage of a ticket; SMS ones fit 160 GSM-7 characters."""

from __future__ import annotations

from kiosk.queue.i18n import format_wait

SMS_STAGES = ("approaching", "called")  # SMS costs money: only what makes a citizen walk back
SMS_LIMIT = 160
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def is_gsm7(text: str) -> bool:
    """Whether every character is in the GSM 03.38 basic alphabet."""
    return all(ch in GSM7 for ch in text)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _gsm(text: str) -> str:
    """Replace what basic phones cannot show (curly quotes, dashes, dots) with plain characters."""
    table = {"·": "-", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."}
    text = "".join(table.get(ch, ch) for ch in text)
    return "".join(ch if ch in GSM7 else "?" for ch in text)


def sms_safe(text: str) -> str:
    """A text for a basic phone: GSM-7 characters only, one SMS at most."""
    return _short(_gsm(text), SMS_LIMIT)


def message_text(stage: str, channel: str, *, number: str, service: str, counter: str | None = None,
                 ahead: int = 0, wait_s: int | None = 0, hall: str = "") -> str:
    """The message for one stage; never anything about another citizen."""
    wait = format_wait(wait_s)
    if channel == "sms":
        svc = _short(service, 40)
        texts = {
            "approaching": f"Giliran: nomor {number} ({svc}) hampir dipanggil, {ahead} orang lagi ({wait}). "
                           "Mohon kembali ke ruang tunggu.",
            "called": f"Giliran: nomor {number} DIPANGGIL. Silakan segera menuju {_short(counter or '', 30)}.",
        }
        return sms_safe(texts[stage])
    texts = {
        "subscribed": f"✅ Pemberitahuan aktif untuk nomor antrean {number} ({service}) di {hall}.\n"
                      f"Orang di depan Anda: {ahead}. Perkiraan waktu tunggu: {wait}.\n"
                      "Kami kabari saat giliran Anda sudah dekat.",
        "approaching": f"⏰ Giliran Anda hampir tiba: nomor {number}, {ahead} orang lagi ({wait}). "
                       "Mohon kembali ke ruang tunggu sekarang.",
        "called": f"📢 Nomor {number} DIPANGGIL. Silakan menuju {counter} sekarang.",
        "recalled": f"📢 Nomor {number} dipanggil ulang. Segera menuju {counter}.",
        "transferred": f"↪️ Nomor {number} dialihkan ke layanan {service}. Orang di depan Anda: {ahead} "
                       f"(perkiraan {wait}).",
        "no_show": f"Nomor {number} ditandai tidak hadir. Bila Anda masih di lokasi, silakan hubungi petugas.",
        "done": f"Layanan untuk nomor {number} selesai. Terima kasih telah menggunakan {hall}.",
    }
    return texts[stage]
