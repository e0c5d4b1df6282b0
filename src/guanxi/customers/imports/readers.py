"""Reading import files: CSV in any of the encodings Chinese offices produce, XLSX, vCard,
JSON lines. Each reader yields ``(line, {header: text})`` with the line number a user sees
in their spreadsheet (the header is line 1), never loading the whole file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import vobject
from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

SNIFF_BYTES = 256 * 1024
ENCODINGS = ("utf_8", "gb18030", "big5")  # GBK is a subset of GB18030
FORMATS = ("csv", "xlsx", "vcf", "jsonl")
EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".vcf": "vcf",
    ".vcard": "vcf", ".jsonl": "jsonl", ".ndjson": "jsonl",
}  # fmt: skip
# the columns a vCard offers, in the order they are shown for mapping
VCARD_COLUMNS = (
    "family_name", "given_name", "full_name", "phone", "phone2", "email", "email2", "company",
    "title", "street", "city", "region", "postcode", "country", "birthday", "note", "url",
)  # fmt: skip


class FileProblem(ValueError):
    """The file as a whole cannot be read (unknown format, not text, no header, …)."""


class RowProblem(ValueError):
    """One row cannot be read (ragged, broken JSON); the rest of the file can."""


@dataclass
class FileInfo:
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    columns: list[str] = field(default_factory=list)


def detect_format(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(b"BEGIN:VCARD"):
        return "vcf"
    if head.lstrip(b"\xef\xbb\xbf \r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), GB18030/GBK or Big5, from the first bytes."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf_8_sig"
    if b"\x00" in head[:4096]:
        raise FileProblem(_("This is not a text file (UTF-16 or binary): save it as CSV UTF-8."))
    try:
        head.decode("utf_8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            best = from_bytes(head, cp_isolation=list(ENCODINGS[1:])).best()
            if best is None:  # the detector gave up: the first that decodes the sample
                for encoding in ENCODINGS[1:]:
                    if _decodes(head, encoding):
                        return encoding
                raise FileProblem(
                    _("The file's encoding is none of UTF-8, GB18030/GBK or Big5.")
                ) from None
            return best.encoding
    return "utf_8"


def _decodes(head: bytes, encoding: str) -> bool:
    """Whether the sample is text in ``encoding`` (a character cut at its end aside)."""
    for cut in range(4):
        try:
            head[: len(head) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def detect_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 20)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def inspect(path: Path, name: str, *, sheet: str = "") -> FileInfo:
    """Format, encoding, delimiter and headers of a file, from its beginning."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise FileProblem(_("The file is empty."))
    info = FileInfo(file_format=detect_format(name, head))
    if info.file_format == "csv":
        info.encoding = detect_encoding(head)
        text = head.decode(info.encoding, errors="ignore")
        info.delimiter = detect_delimiter(text)
    elif info.file_format == "xlsx":
        info.sheet = sheet
    info.columns = _headers(path, info)
    return info


def _headers(path: Path, info: FileInfo) -> list[str]:
    if info.file_format == "vcf":
        return list(VCARD_COLUMNS)
    if info.file_format == "jsonl":
        seen: dict[str, None] = {}
        for _line, row in rows(path, info, limit=200):
            if isinstance(row, dict):
                seen.update(dict.fromkeys(row))
        return list(seen)
    header = next(_table(path, info), None)
    if header is None or not any(cell.strip() for cell in header[1]):
        raise FileProblem(_("The first row must name the columns."))
    names = [cell.strip() for cell in header[1]]
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise FileProblem(
            _("Columns must have different names; repeated: %(names)s")
            % {"names": ", ".join(duplicates)}
        )
    return names


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13800138000.0 as Excel stores a phone typed as a number
    return str(value)


def _table(path: Path, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of a CSV or a sheet, header included."""
    if info.file_format == "csv":
        with path.open("r", encoding=info.encoding, newline="", errors="strict") as handle:
            reader = csv.reader(handle, delimiter=info.delimiter or ",")
            line = 0
            try:
                for cells in reader:
                    line = reader.line_num
                    yield line, cells
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    _("After line %(line)s the file is not %(encoding)s any more: save it again "
                      "as CSV UTF-8.") % {"line": line, "encoding": info.encoding}
                ) from exc  # fmt: skip
            except csv.Error as exc:
                raise FileProblem(
                    _("Line %(line)s: %(error)s") % {"line": line + 1, "error": exc}
                ) from exc
        return
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML or workbook structure errors all mean the same
        raise FileProblem(_("This is not an Excel workbook (.xlsx) that can be read.")) from exc
    try:
        if info.sheet and info.sheet not in workbook.sheetnames:
            raise FileProblem(
                _("The workbook has no sheet %(sheet)r; it has %(sheets)s.")
                % {"sheet": info.sheet, "sheets": ", ".join(workbook.sheetnames)}
            )
        sheet = workbook[info.sheet] if info.sheet else workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield line, [_cell(v) for v in values]
    finally:
        workbook.close()


def rows(path: Path, info: FileInfo, *, start_after: int = 0, limit: int | None = None
         ) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:  # fmt: skip
    """``(line, {column: text})`` for each data row after line ``start_after``; a row that
    cannot be read comes as ``(line, RowProblem)`` and the reading goes on."""
    produced = 0
    for line, row in _records(path, info):
        if line <= start_after:
            continue
        if limit is not None and produced >= limit:
            return
        produced += 1
        yield line, row


def _records(path: Path, info: FileInfo) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:
    if info.file_format in ("csv", "xlsx"):
        table = _table(path, info)
        next(table, None)  # the header
        columns = info.columns
        for line, cells in table:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                yield (
                    line,
                    RowProblem(
                        _("this row has %(cells)s cells but the header names %(columns)s columns")
                        % {"cells": len(cells), "columns": len(columns)}
                    ),
                )
                continue
            yield line, {c: (cells[i] if i < len(cells) else "") for i, c in enumerate(columns)}
    elif info.file_format == "jsonl":
        with path.open("r", encoding="utf_8_sig", errors="replace") as handle:
            for line, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield line, RowProblem(_("not valid JSON: %(error)s") % {"error": exc.msg})
                    continue
                if not isinstance(value, dict):
                    yield line, RowProblem(_("each line must be a JSON object"))
                    continue
                yield line, {str(k): _json_cell(v) for k, v in value.items()}
    elif info.file_format == "vcf":
        yield from _vcards(path)
    else:
        raise FileProblem(_("Unknown format %(format)r.") % {"format": info.file_format})


def _json_cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _vcards(path: Path) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:
    """One row per card; its line is the line of its BEGIN:VCARD."""
    text = path.read_bytes()
    encoding = detect_encoding(text[:SNIFF_BYTES])
    content = text.decode(encoding, errors="replace")
    start = 0
    for number, block in enumerate(_card_blocks(content), 1):
        line = content.count("\n", 0, content.find(block, start)) + 1
        start += len(block)
        try:
            card = vobject.readOne(block)
        except Exception as exc:  # vobject raises several kinds for a broken card
            yield (
                line,
                RowProblem(_("card %(n)s cannot be read: %(error)s") % {"n": number, "error": exc}),
            )
            continue
        yield line, _card_row(card)


def _card_blocks(content: str) -> Iterator[str]:
    block: list[str] = []
    for text in content.splitlines(keepends=True):
        if text.strip().upper() == "BEGIN:VCARD":
            block = []
        block.append(text)
        if text.strip().upper() == "END:VCARD":
            yield "".join(block)
            block = []


def _card_row(card: Any) -> dict[str, str]:
    row = dict.fromkeys(VCARD_COLUMNS, "")
    contents = card.contents
    if "n" in contents:
        name = contents["n"][0].value
        row["family_name"], row["given_name"] = str(name.family or ""), str(name.given or "")
    if "fn" in contents:
        row["full_name"] = contents["fn"][0].value
    for key, names in (("tel", ("phone", "phone2")), ("email", ("email", "email2"))):
        for slot, item in zip(names, contents.get(key, []), strict=False):
            row[slot] = str(item.value)
    if "org" in contents:
        org = contents["org"][0].value
        row["company"] = org[0] if isinstance(org, list) and org else str(org)
    for key in ("title", "note", "url"):
        if key in contents:
            row[key] = str(contents[key][0].value)
    if "bday" in contents:
        row["birthday"] = str(contents["bday"][0].value)
    if "adr" in contents:
        address = contents["adr"][0].value
        row.update(street=str(address.street or ""), city=str(address.city or ""),
                   region=str(address.region or ""), postcode=str(address.code or ""),
                   country=str(address.country or ""))  # fmt: skip
    return row


def count_rows(path: Path, info: FileInfo) -> int:
    return sum(1 for _row in _records(path, info))
