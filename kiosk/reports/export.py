"""Exports of report tables: CSV (UTF-8 with a byte-order mark, so Excel and LibreOffice keep
Indonesian text intact; one header row) and XLSX (openpyxl: one sheet per table, a title row
naming the hall and the range, real numbers, a frozen header). Any report (the survey's too) hands
`Table`s to `to_csv` or `to_xlsx`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    """A column: the row's key, its header, and for numbers how many decimals it shows."""

    key: str
    header: str
    decimals: int | None = None  # None: text


@dataclass(frozen=True)
class Table:
    """A titled table of rows (dicts), with an optional total row."""

    sheet: str  # the sheet's name in a workbook (at most 31 characters)
    title: str  # what the table is, e.g. "Ringkasan per layanan"
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    total: dict[str, Any] | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def to_csv(table: Table) -> bytes:
    """The table as CSV: a header row, the rows, the total row last; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: comma, CRLF, quotes where needed
    writer.writerow([c.header for c in table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in table.columns])
    return (BOM + out.getvalue()).encode("utf-8")


SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def to_xlsx(tables: Sequence[Table], heading: str) -> bytes:
    """A workbook with one sheet per table; each sheet starts with `heading` (hall and range) and
    the table's title, then the header row, the rows and the total."""
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(SHEET_BAD.sub("-", table.sheet)[:31])
        sheet.append([heading])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([table.title])
        sheet["A2"].font = Font(bold=True, size=12)
        sheet.append([])
        sheet.append([c.header for c in table.columns])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor="DDE7F0")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            _append(sheet, table.columns, row)
        if table.total:
            _append(sheet, table.columns, table.total)
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        for note in table.notes:
            sheet.append([])
            sheet.append([note])
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
        for i, column in enumerate(table.columns, start=1):
            widest = max([len(column.header) // 2 + 2] + [len(str(r.get(column.key) or "")) + 2 for r in table.rows])
            sheet.column_dimensions[get_column_letter(i)].width = min(max(widest, 8), 48)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet: Any, columns: Sequence[Column], row: dict[str, Any]) -> None:
    sheet.append([row.get(c.key) for c in columns])
    for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
        if column.decimals is not None and cell.value is not None:
            cell.number_format = "0" if column.decimals == 0 else "0." + "0" * column.decimals


def filename(stem: str, first: str, last: str, suffix: str) -> str:
    """A download's file name, e.g. laporan-layanan-2026-03-01-2026-03-31.xlsx."""
    span = first if first == last else f"{first}_{last}"
    return f"{stem}-{span}.{suffix}"
