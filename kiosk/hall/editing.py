"""Editing the hall at run time: which parts admins (and supervisors) may change, and how a form
or a JSON body becomes a new hall document. The document is then checked by `parse_hall` like a
hall file, so one set of rules guards both."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from kiosk.hall.config import LATE_PRINT, PICTOGRAMS, PRINTER_DRIVERS, PRINTER_OPTIONS
from kiosk.queue.errors import BadRequest, Forbidden, NotFound, Unprocessable


@dataclass(frozen=True)
class Field:
    """One value of an entry, as a form shows it."""

    name: str
    label: str
    kind: str = "text"  # text, int, number, select, multi, textarea, words (comma list), groups (a line each)
    required: bool = False
    hint: str = ""
    choices: str | None = None  # the section whose keys are the choices, or one of CHOICES' names


@dataclass(frozen=True)
class Section:
    """A part of the hall document: a list of entries with a key, or one table."""

    name: str
    title: str
    fields: tuple[Field, ...]
    key: str | None = None  # None: a single table ([display], [alerts], ...)
    supervisor_fields: frozenset[str] = frozenset()  # what a supervisor may change (never add or remove)
    intro: str = ""

    @property
    def is_list(self) -> bool:
        return self.key is not None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


PROFILES = ("TM-T88V", "TM-T88IV", "TM-T20II", "TM-T82II", "POS-5890", "ZJ-5870", "default")

SECTIONS: dict[str, Section] = {s.name: s for s in (
    Section("services", "Layanan", key="code", fields=(
        Field("code", "Kode (awalan nomor)", required=True, hint="1-2 huruf besar, mis. A atau KT"),
        Field("name", "Nama layanan", required=True),
        Field("agency", "Instansi", "select", required=True, choices="agencies"),
        Field("daily_quota", "Kuota harian", "int", hint="kosongkan jika tanpa kuota"),
        Field("hours", "Jam layanan", hint="mis. 08:00-12:00, 13:00-15:00; kosongkan jika selama kios menyala"),
        Field("service_minutes", "Perkiraan menit per layanan", "number"),
        Field("approach_ahead", "Beri tahu saat sisa antrean di depan", "int",
              hint="kosongkan untuk memakai ambang umum"),
        Field("approach_minutes", "Beri tahu saat perkiraan tunggu (menit)", "number",
              hint="kosongkan untuk memakai ambang umum"),
        Field("target_wait_minutes", "Target waktu tunggu (menit)", "number",
              hint="untuk laporan dan pemantauan; kosongkan untuk memakai target umum"),
        Field("keywords", "Kata pencarian tambahan", "words", hint="dipisah koma, mis. rekam, cetak ulang ktp"),
    ), supervisor_fields=frozenset({"daily_quota", "hours", "target_wait_minutes"}),
        intro="Kuota dan jam layanan berlaku seketika di kios."),
    Section("agencies", "Instansi", key="code", fields=(
        Field("code", "Kode", required=True, hint="huruf, angka, - atau _"),
        Field("name", "Nama instansi", required=True),
        Field("short_name", "Nama singkat di kios", hint="mis. Disdukcapil; kosongkan untuk memakai nama instansi"),
        Field("icon", "Piktogram di kios", "select", choices="pictograms"),
    )),
    Section("counters", "Loket", key="id", fields=(
        Field("id", "Nomor/ID loket", required=True, hint="huruf, angka, - atau _"),
        Field("name", "Nama yang diumumkan", required=True, hint="mis. Loket 3"),
        Field("services", "Layanan yang dipanggil", "multi", required=True, choices="services"),
    )),
    Section("kiosks", "Kios", key="id", fields=(
        Field("id", "ID kios", required=True, hint="dipakai di alamat /kiosk?kiosk=ID"),
        Field("name", "Nama kios", required=True),
        Field("printer", "Printer", "select", choices="printers"),
        Field("reset_after_s", "Kembali ke awal setelah (detik)", "number"),
    )),
    Section("printers", "Printer", key="id", fields=(
        Field("id", "ID printer", required=True),
        Field("driver", "Sambungan", "select", required=True, choices="drivers"),
        Field("profile", "Model (profil python-escpos)", "select", required=True, choices="profiles"),
        Field("host", "Alamat IP (network)"),
        Field("port", "Port (network)", "int", hint="biasanya 9100"),
        Field("devfile", "Berkas perangkat (serial/file)", hint="mis. /dev/usb/lp0"),
        Field("printer_name", "Nama printer CUPS"),
        Field("vendor_id", "Vendor ID USB", hint="mis. 0x04b8"),
        Field("product_id", "Product ID USB", hint="mis. 0x0e15"),
    ), intro="Perubahan printer memulai ulang sambungannya; tiket yang menunggu tetap dicetak."),
    Section("display", "Layar & suara", fields=(
        Field("phrase", "Kalimat panggilan", required=True, hint="boleh memakai {number}, {counter}, {service}"),
        Field("read_numbers", "Cara membaca nomor", "select", required=True, choices="read_numbers"),
        Field("recent_calls", "Jumlah panggilan terakhir di layar", "int"),
        Field("stale_after_s", "Tanda terputus setelah (detik)", "number"),
        Field("image_seconds", "Lama satu gambar tayangan (detik)", "number"),
    ), intro="Teks berjalan diubah di bagian Teks berjalan; gambar dan video di Tayangan layar."),
    Section("alerts", "Ambang pemberitahuan", fields=(
        Field("approach_ahead", "Beri tahu saat sisa antrean di depan", "int", required=True),
        Field("approach_minutes", "Beri tahu saat perkiraan tunggu (menit)", "number", required=True),
        Field("give_up_minutes", "Berhenti mencoba kirim setelah (menit)", "number", required=True),
        Field("supervisor_chat", "Chat Telegram supervisor",
              hint="ID chat (mis. -1001234567890) yang diberi tahu saat tunggu sebuah layanan melewati target"),
    )),
    Section("queue", "Aturan antrean", fields=(
        Field("priority_max_in_row", "Prioritas berturut-turut paling banyak", "int", required=True),
        Field("default_service_minutes", "Perkiraan menit per layanan (umum)", "number", required=True),
        Field("target_wait_minutes", "Target waktu tunggu umum (menit)", "number", required=True,
              hint="dipakai layanan yang tidak punya target sendiri"),
    )),
    Section("limits", "Batas kios & login", fields=(
        Field("tickets_per_minute", "Tiket per menit per kios/alamat", "number", required=True),
        Field("ticket_burst", "Tiket beruntun yang dibolehkan", "int", required=True),
        Field("login_failures", "Gagal login sebelum ditahan", "int", required=True),
        Field("login_window_s", "Jangka hitung gagal login (detik)", "number", required=True),
    )),
    Section("tickets", "Teks tiket", fields=(
        Field("footer", "Kaki tiket", "textarea", required=True),
        Field("alert_hint", "Petunjuk QR", "textarea", required=True),
        Field("late_print", "Tiket yang terlambat dicetak", "select", choices="late_print",
              hint="tiket yang di kios sudah dinyatakan belum tercetak, saat printer siap kembali"),
    )),
    Section("search", "Pencarian kios", fields=(
        Field("synonyms", "Kelompok kata yang sama arti", "groups",
              hint="satu baris satu kelompok, kata dipisah koma, mis. kk, kartu keluarga"),
    ), intro="Warga yang mengetik salah satu kata dalam satu kelompok menemukan layanan dengan kata lainnya."),
    Section("hall", "Nama & alamat", fields=(
        Field("name", "Nama mal pelayanan", required=True),
        Field("public_url", "Alamat publik (untuk kode QR)", required=True, hint="mis. https://antrean.purwakartakab.go.id"),
    ), intro="Zona waktu hanya diubah lewat berkas hall (giliran hall import)."),
)}

MAX_TEXT = 500


LATE_PRINT_LABELS = {"print": "Cetak terlambat (ditandai terlambat)",
                     "drop": "Jangan dicetak (petugas mencetak ulang bila diminta)"}
CHOICES: dict[str, list[tuple[str, str]]] = {
    "drivers": [(d, d) for d in PRINTER_DRIVERS],
    "profiles": [(p, p) for p in PROFILES],
    "read_numbers": [("words", "Kata (A dua belas)"), ("digits", "Angka per digit (A nol satu dua)")],
    "pictograms": [(p, p) for p in PICTOGRAMS],
    "late_print": [(v, LATE_PRINT_LABELS[v]) for v in LATE_PRINT],
}


def choices(section: str | None, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs for a select or multi field."""
    if section in CHOICES:
        return CHOICES[section]
    spec = SECTIONS[section] if section else None
    if spec is None or spec.key is None:
        return []
    return [(str(e[spec.key]), f"{e[spec.key]} · {e.get('name', '')}".rstrip(" ·")) for e in raw.get(spec.name, [])]


def section(name: str) -> Section:
    """The section with this name (404 otherwise)."""
    spec = SECTIONS.get(name)
    if spec is None:
        raise NotFound("Bagian pengaturan ini tidak ada.", code="unknown_section")
    return spec


def convert(spec: Section, values: dict[str, Any]) -> dict[str, Any]:
    """Submitted values (form strings or JSON) -> document values; None means "leave out"."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        f = spec.field(name)
        if f is None:
            raise BadRequest(f"Isian '{name}' tidak dikenal di bagian {spec.title}.", code="unknown_field")
        if f.kind == "multi":
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in items):
                raise Unprocessable(f"{f.label}: pilih dari daftar.", code="invalid_field")
            out[name] = [v for v in items if v] or None
            continue
        if f.kind in ("words", "groups") and not isinstance(value, str):
            out[name] = value or None  # JSON: the list itself (parse_hall checks it)
            continue
        if f.kind == "words":
            out[name] = [w.strip() for w in value.split(",") if w.strip()] or None
            continue
        if f.kind == "groups":
            if len(value) > 50 * MAX_TEXT:
                raise Unprocessable(f"{f.label}: terlalu panjang.", code="invalid_field")
            groups = [[w.strip() for w in line.split(",") if w.strip()] for line in value.splitlines()]
            out[name] = [g for g in groups if g] or None
            continue
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_TEXT:
                raise Unprocessable(f"{f.label}: paling banyak {MAX_TEXT} karakter.", code="invalid_field")
            if value == "":
                value = None
        if value is None:
            out[name] = None
        elif f.kind in ("int", "number"):
            if isinstance(value, bool):
                raise Unprocessable(f"{f.label}: harus berupa angka.", code="invalid_field")
            try:
                number = float(str(value).replace(",", "."))
            except ValueError:
                raise Unprocessable(f"{f.label}: harus berupa angka.", code="invalid_field") from None
            if not math.isfinite(number):
                raise Unprocessable(f"{f.label}: harus berupa angka biasa (bukan tak hingga).", code="invalid_field")
            if f.kind == "int" and not number.is_integer():
                raise Unprocessable(f"{f.label}: harus bilangan bulat.", code="invalid_field")
            out[name] = int(number) if f.kind == "int" or number.is_integer() else number
        elif isinstance(value, (str, int, float)):
            out[name] = str(value)
        else:
            raise Unprocessable(f"{f.label}: harus berupa teks.", code="invalid_field")
    return out


def _merge(entry: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(entry)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def edit(raw: dict[str, Any], spec: Section, key: str | None, values: dict[str, Any], *,
         role: str, create: bool = False) -> dict[str, Any]:
    """A copy of `raw` with one entry (or the single table) changed; the caller checks it with parse_hall."""
    changes = convert(spec, values)
    if role != "admin":
        if create or not spec.supervisor_fields:
            raise Forbidden("Hanya admin yang boleh mengubah bagian ini.", code="admin_only")
        current = entry_values(raw, spec, key)
        if [k for k, v in changes.items() if k not in spec.supervisor_fields and v != current.get(k)]:
            allowed = ", ".join(f.label.lower() for f in spec.fields if f.name in spec.supervisor_fields)
            raise Forbidden(f"Supervisor hanya boleh mengubah {allowed}.", code="admin_only")
        changes = {k: v for k, v in changes.items() if k in spec.supervisor_fields}
    for f in spec.fields:
        if f.required and f.name in changes and changes[f.name] is None:
            raise Unprocessable(f"{f.label} wajib diisi.", code="field_required")
    doc = copy.deepcopy(raw)
    if not spec.is_list:
        doc[spec.name] = _merge(doc.get(spec.name, {}), changes)
        return doc
    entries: list[dict[str, Any]] = doc.setdefault(spec.name, [])
    assert spec.key is not None
    if create:
        new_key = changes.get(spec.key)
        if not new_key:
            raise Unprocessable(f"{spec.field(spec.key).label} wajib diisi.", code="field_required")  # type: ignore[union-attr]
        if any(str(e.get(spec.key)) == str(new_key) for e in entries):
            raise Unprocessable(f"{spec.title} '{new_key}' sudah ada.", code="duplicate_key")
        missing = [f.label for f in spec.fields if f.required and changes.get(f.name) is None]
        if missing:
            raise Unprocessable(f"Wajib diisi: {', '.join(missing)}.", code="field_required")
        entries.append(_merge({}, changes))
        if spec.name == "printers":
            entries[-1] = _driver_options(entries[-1])
        return doc
    index = _find(entries, spec, key)
    if spec.key in changes and str(changes[spec.key]) != str(key):
        raise Unprocessable(f"{spec.field(spec.key).label} tidak dapat diubah; hapus lalu tambah baru.",  # type: ignore[union-attr]
                            code="key_fixed")
    entries[index] = _merge(entries[index], changes)
    if spec.name == "printers":
        entries[index] = _driver_options(entries[index])
    return doc


def _driver_options(entry: dict[str, Any]) -> dict[str, Any]:
    """A printer keeps only the options of its driver: switching a network printer back to preview
    drops its host and port instead of refusing them."""
    from kiosk.hall.rooms import PRINTER_KEYS

    allowed = PRINTER_KEYS | PRINTER_OPTIONS.get(str(entry.get("driver")), set())
    return {k: v for k, v in entry.items() if k in allowed}


def remove(raw: dict[str, Any], spec: Section, key: str, *, role: str) -> dict[str, Any]:
    """A copy of `raw` without one entry."""
    if role != "admin":
        raise Forbidden("Hanya admin yang boleh menghapus.", code="admin_only")
    if not spec.is_list:
        raise BadRequest("Bagian ini tidak dapat dihapus.", code="not_removable")
    doc = copy.deepcopy(raw)
    entries = doc.get(spec.name, [])
    del entries[_find(entries, spec, key)]
    return doc


def _find(entries: list[dict[str, Any]], spec: Section, key: str | None) -> int:
    for i, entry in enumerate(entries):
        if spec.key is not None and str(entry.get(spec.key)) == str(key):
            return i
    raise NotFound(f"{spec.title} '{key}' tidak ditemukan.", code="not_found")


def entry_values(raw: dict[str, Any], spec: Section, key: str | None) -> dict[str, Any]:
    """The current values of one entry (or the single table), for a form."""
    if not spec.is_list:
        return dict(raw.get(spec.name, {}))
    return dict(raw.get(spec.name, [])[_find(raw.get(spec.name, []), spec, key)])
