"""Exports of account and contact lists: CSV, XLSX and vCard.

Rows are read in keyset batches and written as they come, so memory stays flat however many
rows there are. Only what the member may export is read (``visible_to(member, "export")``,
which can be narrower than what they may view); every export is audited; cells that a
spreadsheet would run as a formula are neutralized (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import vobject
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from guanxi.customers import selectors
from guanxi.customers.columns import NEEDS, Column, person_name
from guanxi.customers.models import Contact
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership

BATCH = 2000
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "vcf": ("text/vcard; charset=utf-8", "vcf"),
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9 ().-]*")  # +8613800138000, -5, +1 (555) 010-0199


def neutralize(value: Any) -> str:
    """A cell as text that no spreadsheet evaluates: ``=cmd|' /C calc'!A0`` gets a leading
    apostrophe (OWASP's advice for CSV injection). A leading + or - before a plain number
    (a phone in E.164, a negative amount) cannot call anything and stays as it is."""
    text = "" if value is None else str(value)
    if not text.startswith(FORMULA_STARTS):
        return text
    if text[0] in "+-" and PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


def exportable(model: type, membership: Membership) -> QuerySet:
    """The rows this member may export, before any filter."""
    return model.objects.visible_to(membership, "export")


def check_format(fmt: str, model: type) -> None:
    if fmt not in FORMATS:
        raise ValidationFailed([("format", f"one of {', '.join(FORMATS)}")])
    if fmt == "vcf" and model is not Contact:
        raise ValidationFailed([("format", "vCard is for contacts")])


def iter_records(queryset: QuerySet, parts: Iterable[str]) -> Iterator[Any]:
    """Every row of ``queryset`` in primary-key order, ``BATCH`` at a time, with the related
    lists in ``parts`` fetched per batch."""
    last = 0
    parts = set(parts)
    while True:
        batch = list(
            selectors.with_details(queryset.filter(pk__gt=last), parts=parts).order_by("pk")[:BATCH]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def table(
    queryset: QuerySet, columns: dict[str, Column], keys: list[str]
) -> tuple[list[str], Iterator[list[str]]]:
    """Header and rows: id and name first, then the chosen columns."""
    header = ["id", "name", *(str(columns[key][0]) for key in keys)]

    def rows() -> Iterator[list[str]]:
        parts = {NEEDS[key] for key in keys if key in NEEDS}
        for record in iter_records(queryset, parts):
            yield [record.public_id, str(record), *(columns[key][1](record) for key in keys)]

    return header, rows()


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads Chinese right), a chunk per ~500 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([neutralize(cell) for cell in header])
    for count, row in enumerate(rows, 1):
        writer.writerow([neutralize(cell) for cell in row])
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(header: list[str], rows: Iterable[list[Any]]) -> tuple[Any, int]:
    """A workbook written row by row (openpyxl's write-only mode) into a temporary file;
    returns the open file and the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    count = 0
    for row in rows:
        count += 1
        if count > XLSX_MAX_ROWS:
            raise ValidationFailed(
                [("format", f"more than {XLSX_MAX_ROWS:,} rows do not fit a sheet; use CSV")]
            )
        sheet.append([neutralize(cell) for cell in row])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 -- the response streams and closes it
    workbook.save(handle)
    handle.seek(0)
    return handle, count


def vcard_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """One vCard 3.0 per contact: name (family and given), phones, e-mails, company, title."""
    parts = {"contact_points", "memberships"}
    for contact in iter_records(queryset, parts):
        card = vobject.vCard()
        card.add("n").value = vobject.vcard.Name(
            family=contact.family_name or "", given=contact.given_name or ""
        )
        card.add("fn").value = str(contact)
        for point in selectors.related(contact, "contact_points"):
            if point.kind == "phone":
                card.add("tel").value = point.value
            elif point.kind == "email":
                card.add("email").value = point.value
        links = selectors.related(contact, "memberships")
        if links:
            card.add("org").value = [links[0].account.name]
            if links[0].title:
                card.add("title").value = links[0].title
        elif contact.occupation:
            card.add("title").value = contact.occupation
        card.add("uid").value = contact.public_id
        yield card.serialize().encode()


def audit_export(*, membership: Membership, model: type, fmt: str, query: str, rows: int | None):
    record_audit(
        action=f"{model._meta.model_name}.exported",
        actor=membership.user,
        workspace=membership.workspace,
        data={"format": fmt, "query": query, "rows": rows, "owner": person_name(membership.user)},
    )


def response(
    *, membership: Membership, model: type, kind: str, queryset: QuerySet, fmt: str,
    available: dict[str, Column], keys: list[str], query: str,
) -> HttpResponse:  # fmt: skip
    """The export as a download: CSV and vCard streamed as they are written, XLSX from a
    temporary file (a workbook is written whole before it can be read); audited."""
    check_format(fmt, model)
    content_type, extension = FORMATS[fmt]
    rows = None
    if fmt == "vcf":
        result: HttpResponse = StreamingHttpResponse(
            vcard_chunks(queryset), content_type=content_type
        )
    elif fmt == "csv":
        header, body = table(queryset, available, keys)
        result = StreamingHttpResponse(csv_chunks(header, body), content_type=content_type)
    else:
        header, body = table(queryset, available, keys)
        handle, rows = xlsx_file(header, body)
        result = FileResponse(handle, content_type=content_type)
    filename = f"{kind}-{timezone.localdate().isoformat()}.{extension}"
    result["Content-Disposition"] = f'attachment; filename="{filename}"'
    audit_export(membership=membership, model=model, fmt=fmt, query=query, rows=rows)
    return result
