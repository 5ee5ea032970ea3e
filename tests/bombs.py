"""Hostile attachments under every size cap: Word files that expand far beyond what they weigh."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

from forms import DOCX_MIME, docx_form

PARAGRAPH = b"<w:p><w:r><w:t>" + b"A" * 4000 + b"</w:t></w:r></w:p>"


def docx_bomb(expanded_bytes: int = 47 * 1024 * 1024) -> bytes:
    """A real .docx whose document.xml holds `expanded_bytes` of paragraphs: it weighs about
    139 KB, under the attachment cap, and expands to 47 MB, under the per-file cap."""
    genuine = zipfile.ZipFile(io.BytesIO(docx_form()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in genuine.infolist():
            data = genuine.read(info.filename)
            if info.filename == "word/document.xml":
                head, _, tail = data.partition(b"<w:body>")
                body = PARAGRAPH * (expanded_bytes // len(PARAGRAPH))
                data = head + b"<w:body>" + body + tail
            archive.writestr(info.filename, data)
    return out.getvalue()


def three_bombs_message(expanded_bytes: int = 47 * 1024 * 1024) -> bytes:
    """The issue's message: three such Word files attached to one referral."""
    bomb = docx_bomb(expanded_bytes)
    message = EmailMessage()
    message["From"] = "Hana Visitor <hana.visitor@nhs.example>"
    message["To"] = "mash@hackney.example"
    message["Subject"] = "Referral forms attached"
    message["Date"] = "Tue, 3 Mar 2026 10:30:00 +0000"
    message["Message-ID"] = "<three-bombs@nhs.example>"
    message.set_content("Please find our three referral forms attached.\n")
    maintype, subtype = DOCX_MIME.split("/")
    for index in range(3):
        message.add_attachment(bomb, maintype=maintype, subtype=subtype, filename=f"r{index}.docx")
    return message.as_bytes()
