"""A hall document's problems in Indonesian, for the admin pages: the checks (parse.py, rooms.py)
speak English to the command line; here the same problem names the entry and the field as the
admin form labels them, e.g. "Layanan D · Jam layanan: '08-12' bukan jam berbentuk JJ:MM-JJ:MM".

Problems without a translation below still name the entry and the field, followed by "isian tidak
valid" and the form's hint, so a new check never shows English to an admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kiosk.hall.config import ConfigError
from kiosk.hall.editing import SECTIONS

# Sections and keys the admin forms do not show (the hall file sets them).
TITLES = {"zones": "Zona", "queue": "Aturan antrean", "sms": "SMS", "search": "Pencarian kios",
          "top level": "Berkas aula"}
LABELS = {"timezone": "Zona waktu", "priority_max_in_row": "Prioritas beruntun maksimal",
          "default_service_minutes": "Menit layanan bawaan", "voice": "Suara", "ticker": "Teks berjalan",
          "playlist": "Daftar tayangan", "provider": "Penyedia SMS", "base_url": "Alamat gateway",
          "body_template": "Templat isi SMS", "counters": "Loket", "agencies": "Instansi",
          "services": "Layanan", "synonyms": "Sinonim", "status_queries": "Tanya status printer",
          "timeout_s": "Batas waktu (detik)", "confirm_wait_s": "Tunggu konfirmasi cetak (detik)",
          "retry_max_s": "Jeda coba ulang maksimal (detik)", "telegram_per_second": "Pesan Telegram per detik",
          "retry_first_s": "Jeda coba ulang pertama (detik)"}
KINDS = {"text": "teks", "a whole number": "bilangan bulat", "a number": "angka", "true or false": "ya atau tidak",
         "a list": "daftar"}
THINGS = {"agency": "Instansi", "service": "Layanan", "counter": "Loket", "printer": "Printer"}


def _kinds(text: str) -> str:
    return " atau ".join(KINDS.get(k, k) for k in text.split(" or "))


RULES: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"is missing", lambda m: "wajib diisi"),
    (r"must not be empty", lambda m: "tidak boleh kosong"),
    (r"must be a table", lambda m: "harus berupa tabel"),
    (r"must be a finite number, not .*", lambda m: "harus berupa angka biasa"),
    (r"must not contain control characters \((.*)\)", lambda m: f"tidak boleh berisi karakter kendali ({m[1]})"),
    (r"must be at most (\d+) characters", lambda m: f"paling banyak {m[1]} karakter"),
    (r"must not contain a number of 10 or more digits", lambda m: "tidak boleh berisi angka 10 digit atau lebih"),
    (r"must start with '/', not '(.*)'", lambda m: f"harus diawali '/', bukan '{m[1]}'"),
    (r"must be between ([\d.]+) and ([\d.]+)( seconds)?.*",
     lambda m: f"harus antara {m[1]} dan {m[2]}{' detik' if m[3] else ''}"),
    (r"must be at least (\d+) \(leave it out for no quota\)",
     lambda m: f"paling sedikit {m[1]} (kosongkan jika tanpa kuota)"),
    (r"must be at least (\d+).*", lambda m: f"paling sedikit {m[1]}"),
    (r"must be greater than 0", lambda m: "harus lebih dari 0"),
    (r"'(.*)' is not HH:MM-HH:MM", lambda m: f"'{m[1]}' bukan jam berbentuk JJ:MM-JJ:MM (mis. 08:00-12:00)"),
    (r"'(.*)' is not a time of day", lambda m: f"'{m[1]}' bukan jam yang ada"),
    (r"'(.*)' ends before it starts", lambda m: f"'{m[1]}' berakhir sebelum dimulai"),
    (r"must be '(\w+)' or '(\w+)', not '(.*)'", lambda m: f"harus '{m[1]}' atau '{m[2]}', bukan '{m[3]}'"),
    (r"must be (text|a whole number|a number|true or false|a list)( or [a-z ]+)?, not .*",
     lambda m: f"harus berupa {_kinds(m[1] + (m[2] or ''))}"),
    (r"is not a known key.*", lambda m: "bukan isian yang dikenal"),
    (r"unknown (agency|service|counter|printer) '(.*)'",
     lambda m: f"{THINGS[m[1]].lower()} '{m[2]}' tidak ada (mungkin baru dihapus atau diubah kodenya)"),
    (r"duplicate \w+ (code|id) '(.*)'", lambda m: f"'{m[2]}' sudah dipakai"),
    (r"'(.*)' must be 1-2 capital letters.*",
     lambda m: f"'{m[1]}' harus 1-2 huruf besar (awalan nomor antrean)"),
    (r"'(.*)' must be letters, digits, '-' or '_' \(at most (\d+)\)",
     lambda m: f"'{m[1]}' hanya boleh berisi huruf, angka, - atau _ (paling banyak {m[2]})"),
    (r"must start with http:// or https://, not '(.*)'",
     lambda m: f"harus diawali http:// atau https://, bukan '{m[1]}'"),
    (r"unknown time zone '(.*)'.*", lambda m: f"zona waktu '{m[1]}' tidak dikenal (mis. Asia/Jakarta)"),
    (r"must list at least one service", lambda m: "pilih paling sedikit satu layanan"),
    (r"lists a service twice", lambda m: "memuat satu layanan dua kali"),
    (r"at least one (agency|service|counter) is needed",
     lambda m: f"paling sedikit harus ada satu {THINGS[m[1]].lower()}"),
    (r"(\d+) is not a port number", lambda m: f"{m[1]} bukan nomor port (1-65535)"),
    (r"'(.*)' is not a USB id.*", lambda m: f"'{m[1]}' bukan ID USB seperti 0x04b8"),
    (r"unknown python-escpos profile '(.*)'.*", lambda m: f"model printer '{m[1]}' tidak dikenal"),
    (r"'(.*)' is not one of (the pictograms: )?(.*)", lambda m: f"'{m[1]}' bukan salah satu dari: {m[3]}"),
    (r"may use only .*", lambda m: "hanya boleh memakai {number}, {counter} dan {service}"),
    (r"give either 'agencies' or 'counters'", lambda m: "isi salah satu: instansi atau loket"),
    (r"the zone has no counters", lambda m: "zona ini tidak memiliki loket"),
    (r"is needed for provider '(.*)'", lambda m: f"wajib diisi untuk penyedia '{m[1]}'"),
    (r"must be JSON .*", lambda m: "harus JSON dengan {phone} dan {text} di dalam teks"),
    (r".* is not a media file name.*", lambda m: "memuat nama berkas yang bukan gambar atau video yang dikenal"),
    (r"must be a list of words.*", lambda m: "harus berupa daftar kata"),
    (r".* must be a list of at least two words or phrases",
     lambda m: "setiap kelompok harus berisi paling sedikit dua kata"),
]
WHERE = re.compile(r"^(\w+)\[(\d+)\](?: \((?:code|id) '(.*)'\))?$")


def _problem(problem: str) -> str | None:
    for pattern, say in RULES:
        m = re.fullmatch(pattern, problem)
        if m:
            return say(m)
    return None


def _entry(where: str) -> tuple[str, str]:
    """(section name, how the entry is named) of "services[3] (code 'D')", "[display]" or "top level"."""
    if m := WHERE.match(where):
        section = m[1]
        title = SECTIONS[section].title if section in SECTIONS else TITLES.get(section, section)
        return section, f"{title} {m[3]}" if m[3] is not None else f"{title} ke-{int(m[2]) + 1}"
    section = where.strip("[]")
    return section, SECTIONS[section].title if section in SECTIONS else TITLES.get(section, section)


def indonesian(exc: ConfigError) -> str:
    """The problem said for an admin: which entry, which field (as the form labels it), what is wrong."""
    if exc.where is None or exc.problem is None:
        return "Berkas aula tidak dapat dipakai."
    section, entry = _entry(exc.where)
    spec = SECTIONS.get(section)
    field = spec.field(exc.key) if spec and exc.key else None
    label = field.label if field else LABELS.get(exc.key or "", exc.key)
    said = _problem(exc.problem)
    if said is None:
        said = "isian tidak valid" + (f" ({field.hint})" if field and field.hint else "")
    return f"{entry} · {label}: {said}." if label else f"{entry}: {said}."
