"""A message's budget of work, measured before any of the work is done.

Reading a form attachment costs what it expands to, not what it weighs: three 139 KB Word
files that each expand to 47 MB (under the per-file cap) once took 467 s and 1.8 GB. So before
python-docx or pypdf is given anything, this measures, from the zip directories and the PDF
object tables alone (linear scans, nothing decompressed):

- the decompressed bytes of every .docx attached, together;
- the XML of each .docx (its word/*.xml parts: what python-docx parses into a tree);
- the objects of each PDF.

A message over any of them is quarantined as `too-costly` for a person, with the figure.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from email.message import Message

# A filled-in form expands to a few megabytes at most, photos included; three forms fit.
MAX_EXPANDED_BYTES = 64 * 1024 * 1024
# A form's document.xml is well under a megabyte; a 50-page report is a few.
MAX_DOCX_XML_BYTES = 16 * 1024 * 1024
# A filled-in PDF form has hundreds to a few thousand objects.
MAX_PDF_OBJECTS = 50_000

_PDF_SIZE = re.compile(rb"/Size\s+(\d{1,12})")
_PDF_OBJ = re.compile(rb"\d{1,10}\s+\d{1,5}\s+obj\b")


@dataclass(frozen=True)
class Budget:
    max_expanded_bytes: int = MAX_EXPANDED_BYTES
    max_docx_xml_bytes: int = MAX_DOCX_XML_BYTES
    max_pdf_objects: int = MAX_PDF_OBJECTS


class TooCostly(Exception):
    """Reading this message would cost more than any referral needs: quarantine it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def form_kind(part: Message) -> str | None:
    """ "docx", "pdf" or None, by content type or file name."""
    filename = (part.get_filename() or "").lower()
    ctype = part.get_content_type()
    if (
        ctype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        or filename.endswith(".docx")
    ):
        return "docx"
    if ctype in ("application/pdf", "application/x-pdf") or filename.endswith(".pdf"):
        return "pdf"
    return None


def docx_cost(data: bytes) -> tuple[int, int]:
    """(decompressed bytes of the whole archive, bytes of its word/*.xml parts), as declared."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return 0, 0  # not a zip: the reader will say it is unreadable, at no cost
    expanded = sum(info.file_size for info in infos)
    xml = sum(
        info.file_size
        for info in infos
        if info.filename.startswith("word/") and info.filename.endswith(".xml")
    )
    return expanded, xml


def pdf_objects(data: bytes) -> int:
    """The larger of the declared object count (/Size) and the `N G obj` headers present."""
    declared = max((int(m.group(1)) for m in _PDF_SIZE.finditer(data)), default=0)
    return max(declared, sum(1 for _ in _PDF_OBJ.finditer(data)))


def check_budget(message: Message, budget: Budget) -> None:
    """Raise TooCostly if reading this message's form attachments would exceed the budget."""
    expanded_total = 0
    docx_count = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = form_kind(part)
        if kind is None:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        name = part.get_filename() or f"attachment.{kind}"
        if kind == "docx":
            expanded, xml = docx_cost(payload)
            docx_count += 1
            expanded_total += expanded
            if xml > budget.max_docx_xml_bytes:
                raise TooCostly(
                    f"{name}: {xml} bytes of XML, over the {budget.max_docx_xml_bytes} allowed"
                )
        else:
            objects = pdf_objects(payload)
            if objects > budget.max_pdf_objects:
                raise TooCostly(
                    f"{name}: {objects} PDF objects, over the {budget.max_pdf_objects} allowed"
                )
        if expanded_total > budget.max_expanded_bytes:
            raise TooCostly(
                f"{docx_count} Word attachment(s) expand to {expanded_total} bytes, over the "
                f"{budget.max_expanded_bytes} a message may"
            )
