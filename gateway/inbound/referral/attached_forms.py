"""Referral forms sent as attachments: Word (.docx) tables and lines, PDF form fields.

Bytes in, (label, value) pairs out. Attachments are hostile input. Before any is read, the
message's budget of work is measured (budget.py: decompressed bytes across all attachments, XML
per .docx, PDF objects) and a message over it raises TooCostly. Each form is then read in a
child process under a time and memory limit (sandbox.py); one that hits a limit raises
TooCostly too, so the message is quarantined and the queue moves on. Any other failure in either
library becomes a reason on the form, never an exception out of the pipeline.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from email.message import Message

from gateway.inbound.referral import budget as work_budget
from gateway.inbound.referral.budget import Budget, TooCostly
from gateway.inbound.referral.layout import Item, docx_items
from gateway.inbound.referral.sandbox import Limits, SandboxFailed, SandboxLimit, read_in_child

log = logging.getLogger(__name__)


# A filled-in form is tens of kilobytes; these caps leave room for embedded photos.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
MAX_PDF_PAGES = 50


@dataclass(frozen=True)
class AttachedForm:
    filename: str
    text: str = ""  # free paragraphs, for the `Label: value` line reader
    pairs: tuple[tuple[str, str], ...] = ()  # table rows or form fields
    problem: str | None = None
    # A Word document's paragraphs and table rows in document order (headings above tables
    # say whose details they hold; a table's header row says what each column is).
    items: tuple[Item, ...] = ()


def attached_forms(
    message: Message, budget: Budget | None = None, limits: Limits | None = None
) -> list[AttachedForm]:
    """Every .docx or PDF attachment read as form pairs (possibly none, with the reason).

    Raises TooCostly, before reading anything, if the attachments exceed the budget, and when a
    form's reading hits the child process's time or memory limit.
    """
    work_budget.check_budget(message, budget or Budget())
    forms: list[AttachedForm] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = work_budget.form_kind(part)
        if kind is None:
            continue
        filename = part.get_filename() or f"attachment.{kind}"
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            forms.append(AttachedForm(filename, problem="empty attachment"))
            continue
        if len(payload) > MAX_ATTACHMENT_BYTES:
            forms.append(AttachedForm(filename, problem=f"over {MAX_ATTACHMENT_BYTES} bytes"))
            continue
        try:
            text, pairs, items = read_in_child(kind, payload, limits or Limits())
        except SandboxLimit as exc:
            raise TooCostly(f"{filename}: {exc}") from exc
        except SandboxFailed as exc:
            log.info("attached %s form unreadable: %s", kind, exc)
            forms.append(AttachedForm(filename, problem=f"unreadable {kind}: {exc}"))
            continue
        forms.append(AttachedForm(filename, text, tuple(pairs), items=tuple(items)))
    return forms


class FormTooLarge(ValueError):
    pass


def docx_form(data: bytes) -> tuple[str, list[tuple[str, str]], list[Item]]:
    """(the paragraphs' text, label/value pairs from the tables' rows, every paragraph and
    row in document order)."""
    from docx import Document  # imported here: most mail has no Word attachment

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
        if expanded > MAX_EXPANDED_BYTES:
            raise FormTooLarge(f"expands to {expanded} bytes")
    document = Document(io.BytesIO(data))
    pairs: list[tuple[str, str]] = []
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            cells = _distinct_cells(row.cells)
            # Forms lay out one or two label/value pairs per row.
            for index in range(0, len(cells) - 1, 2):
                label, value = cells[index].strip(), cells[index + 1].strip()
                if label:
                    pairs.append((label, value))
    return text, pairs, docx_items(document)


def _distinct_cells(cells: list) -> list[str]:  # type: ignore[type-arg]
    # Merged cells repeat the same object for each grid column they span.
    seen: list[object] = []
    texts: list[str] = []
    for cell in cells:
        if any(cell._tc is other for other in seen):
            continue
        seen.append(cell._tc)
        texts.append(cell.text)
    return texts


def pdf_pairs(data: bytes) -> list[tuple[str, str]]:
    """AcroForm fields as (label, value): the field's tooltip if it has one, else its name."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) > MAX_PDF_PAGES:
        raise FormTooLarge(f"{len(reader.pages)} pages")
    fields = reader.get_fields() or {}
    pairs: list[tuple[str, str]] = []
    for name, spec in fields.items():
        value = spec.get("/V")
        if value is None:
            continue
        text = str(value).strip()
        if text.startswith("/"):  # checkbox and radio states are names: /Yes, /Off
            text = {"/Off": "No"}.get(text, text[1:])
        label = str(spec.get("/TU") or _field_label(name))
        pairs.append((label, text))
    return pairs


def _field_label(name: str) -> str:
    # Field names are identifiers: "child_dob", "ReferrerName", "form1[0].concern[0]".
    name = re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1]
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return re.sub(r"[_\-]+", " ", name).strip()
