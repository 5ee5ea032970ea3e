"""The referral-label corpus: label sets of published English referral forms, each filled in
with invented details and rendered as a plain-text e-mail, an HTML e-mail and an attached
Word document; with the reading each must give (tests/data/referral_labels/*.form).

Format of a .form file (one label set):

    source: <the published form's title>      url: <where it was read>
    shapes: text html docx                    (optional; default all three)
    style: dash                               (optional: `Label - value` lines in text)
    == HEADING                                a section heading as the form prints it
    Label | value                             a field (`Label | v || Label | v`: two a row)
    | Header | Header | Header                a table's header row, then its rows
    | cell | cell | cell
    expect children.0.given_name = Amira      the reading (`~` for "contains")
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "data" / "referral_labels"
SHAPES = ("text", "html", "docx")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

CHILD_FIELDS = (
    "given_name",
    "family_name",
    "full_name",
    "date_of_birth",
    "expected_date",
    "unborn",
    "nhs_number",
    "address",
    "postcode",
    "school",
    "gp",
)
REFERRER_FIELDS = ("name", "role", "agency", "email", "phone")
TOP_FIELDS = (
    "concern",
    "categories",
    "immediate_risk",
    "parents_aware",
    "child_aware",
    "consent",
    "household",
)


@dataclass
class Block:
    kind: str  # "heading", "pairs", "table"
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Form:
    name: str
    source: str
    url: str
    shapes: tuple[str, ...]
    style: str
    blocks: list[Block]
    expect: dict[str, tuple[str, str]]  # path -> (operator, value)


def load(path: Path) -> Form:
    meta: dict[str, str] = {}
    blocks: list[Block] = []
    expect: dict[str, tuple[str, str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("#"):
            if blocks and blocks[-1].kind == "table":
                blocks.append(Block("pairs"))  # a blank line ends a table
            continue
        if line.startswith("expect "):
            body = line.removeprefix("expect ")
            op = "~" if " ~ " in body else "="
            path_, _, value = body.partition(f" {op} ")
            expect[path_.strip()] = (op, value.strip())
        elif line.startswith("== "):
            blocks.append(Block("heading", [[line[3:].strip()]]))
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not blocks or blocks[-1].kind != "table":
                blocks.append(Block("table"))
            blocks[-1].rows.append(cells)
        elif (
            ":" in line.split("|")[0]
            and "|" not in line
            and line.split(":")[0]
            in (
                "source",
                "url",
                "shapes",
                "style",
            )
        ):
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
        else:
            row: list[str] = []
            for pair in line.split("||"):
                label, _, value = pair.partition("|")
                row += [label.strip(), value.strip()]
            if not blocks or blocks[-1].kind != "pairs":
                blocks.append(Block("pairs"))
            blocks[-1].rows.append(row)
    shapes = tuple(meta.get("shapes", " ".join(SHAPES)).split())
    return Form(
        path.stem,
        meta.get("source", ""),
        meta.get("url", ""),
        shapes,
        meta.get("style", "colon"),
        [b for b in blocks if b.rows],
        expect,
    )


def forms() -> list[Form]:
    return [load(p) for p in sorted(CORPUS.glob("*.form"))]


def render_text(form: Form) -> str:
    lines: list[str] = []
    sep = " - " if form.style == "dash" else ": "
    for block in form.blocks:
        if block.kind == "heading":
            lines += ["", block.rows[0][0]]
        elif block.kind == "table":
            lines += ["\t".join(row) for row in block.rows]
        else:
            for row in block.rows:
                for index in range(0, len(row), 2):
                    label = row[index].rstrip(":").rstrip()
                    lines.append(f"{label}{sep}{row[index + 1]}".rstrip())
    return "\n".join(lines).strip() + "\n"


def render_html(form: Form, *, heading_rows: bool) -> str:
    out = ["<html><body>"]
    open_table = False
    for block in form.blocks:
        if block.kind == "heading":
            text = html.escape(block.rows[0][0])
            if heading_rows:
                if not open_table:
                    out.append("<table>")
                    open_table = True
                out.append(f'<tr><td colspan="4"><b>{text}</b></td></tr>')
            else:
                if open_table:
                    out.append("</table>")
                    open_table = False
                out.append(f"<h3>{text}</h3>")
            continue
        if block.kind == "table":
            if open_table:
                out.append("</table>")
            out.append("<table>")
            head, *body = block.rows
            out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>")
            out += [
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body
            ]
            out.append("</table>")
            open_table = False
            continue
        if not open_table:
            out.append("<table>")
            open_table = True
        for row in block.rows:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    if open_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def render_docx(form: Form, *, heading_rows: bool) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Referral form", level=1)
    for block in form.blocks:
        if block.kind == "heading":
            text = block.rows[0][0]
            if heading_rows:
                table = document.add_table(rows=1, cols=2)
                merged = table.rows[0].cells[0].merge(table.rows[0].cells[1])
                merged.text = text
            else:
                document.add_paragraph(text)
            continue
        width = max(len(r) for r in block.rows)
        table = document.add_table(rows=0, cols=width)
        for row in block.rows:
            cells = table.add_row().cells
            for index, text in enumerate(row):
                cells[index].text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def message(form: Form, shape: str, index: int = 0) -> bytes:
    """The form as a referrer would send it, in SHAPE."""
    mail = EmailMessage()
    mail["From"] = "Referrer <referrer@agency.example>"
    mail["To"] = "mash@hackney.example"
    mail["Subject"] = f"Referral ({form.name})"
    mail["Date"] = "Tue, 3 Mar 2026 10:30:00 +0000"
    mail["Message-ID"] = f"<{form.name}.{shape}@agency.example>"
    heading_rows = index % 2 == 0
    if shape == "text":
        mail.set_content(render_text(form))
    elif shape == "html":
        mail.set_content(render_html(form, heading_rows=heading_rows), subtype="html")
    else:
        mail.set_content("Please find our referral form attached.\n")
        mail.add_attachment(
            render_docx(form, heading_rows=heading_rows),
            maintype="application",
            subtype=DOCX_MIME.split("/")[1],
            filename=f"{form.name}.docx",
        )
    return mail.as_bytes()


def _text(value: Any) -> str | None:
    if value is None or value == "" or value == [] or value is False:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return " ".join(str(value).split())


def reading(referral: Any) -> dict[str, str]:
    """Every evaluated field the parser gave a value, as text (False is an answer for the
    yes/no fields, not for `unborn`)."""
    out: dict[str, str] = {}
    for index, child in enumerate(referral.children):
        for name in CHILD_FIELDS:
            value = _text(getattr(child, name))
            if value is not None:
                out[f"children.{index}.{name}"] = value
    for name in REFERRER_FIELDS:
        value = _text(getattr(referral.referrer, name))
        if value is not None:
            out[f"referrer.{name}"] = value
    for name in TOP_FIELDS:
        raw = getattr(referral, name)
        value = ("true" if raw else "false") if isinstance(raw, bool) else _text(raw)
        if value is not None:
            out[name] = value
    return out


def field_of(path: str) -> str:
    parts = path.split(".")
    return f"child.{parts[2]}" if parts[0] == "children" else ".".join(parts)


def compare(form: Form, got: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """Per field: (true positives, false positives, false negatives) for one document."""
    counts: dict[str, list[int]] = {}
    for path in set(got) | set(form.expect):
        tally = counts.setdefault(field_of(path), [0, 0, 0])
        op, want = form.expect.get(path, ("=", ""))
        have = got.get(path)
        if have is None:
            tally[2] += 1 if want else 0
            continue
        want_norm = " ".join(want.split())
        ok = bool(want) and (want_norm in have if op == "~" else have == want_norm)
        if ok:
            tally[0] += 1
        else:
            tally[1] += 1
            tally[2] += 1 if want else 0
    return {k: (v[0], v[1], v[2]) for k, v in counts.items()}
