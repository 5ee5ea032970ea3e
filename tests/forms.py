"""Referral forms as people attach them: a Word document and a fillable PDF, built for real."""

from __future__ import annotations

import io
from email.message import EmailMessage

FORM = [
    ("Referrer's name", "Hana Visitor"),
    ("Role", "Health visitor"),
    ("Organisation", "Homerton Healthcare NHS Trust"),
    ("Email", "hana.visitor@nhs.example"),
    ("Child's name", "Kofi Mensah"),
    ("Date of birth", "14/02/2025"),
    ("Address", "22 Sandringham Road, London E8 2LL"),
    ("NHS number", "943 476 5919"),
    ("Parents/carers", "Mother Ama Mensah"),
    ("Concern", "Mother appeared intoxicated at the 12-month review; the flat was cold."),
    ("Category of concern", "Parental substance misuse; neglect"),
    ("Immediate risk", "No"),
    ("Parents aware", "Yes"),
    ("Consent", "Given by mother"),
]


def docx_form(rows: list[tuple[str, str]] = FORM) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("MASH referral form", level=1)
    document.add_paragraph("Please complete every section.")
    table = document.add_table(rows=0, cols=2)
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_form(rows: list[tuple[str, str]] = FORM) -> bytes:
    """A fillable PDF: each answer a text field named from its label, the label as tooltip."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.drawString(40, 800, "MASH referral form")
    y = 760
    for index, (label, value) in enumerate(rows):
        page.drawString(40, y + 5, label)
        page.acroForm.textfield(
            name=f"field_{index}",
            tooltip=label,
            value=value,
            x=220,
            y=y,
            width=340,
            height=18,
        )
        y -= 28
    page.save()
    return out.getvalue()


def with_attachment(data: bytes, filename: str, mime: str, *, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Hana Visitor <hana.visitor@nhs.example>"
    message["To"] = "mash@hackney.example"
    message["Subject"] = subject
    message["Date"] = "Tue, 3 Mar 2026 10:30:00 +0000"
    message["Message-ID"] = f"<{filename}@nhs.example>"
    message.set_content("Please find our referral form attached.\n\nHana Visitor\n")
    maintype, subtype = mime.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
