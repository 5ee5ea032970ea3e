"""Writing the report: report.html (self-contained), report.pdf, one CSV per table and
figures.json. The page is a Jinja2 template we ship; every value in it is data."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from gateway.reports.charts import all_charts
from gateway.reports.definitions import DEFINITIONS
from gateway.reports.period import spoken
from gateway.reports.steering import Report
from gateway.reports.tables import show, tables

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("html", "pdf", "csv")
# Each chart's frame has its own colour (a beige whose blue channel steps by 4; no grey, so
# no anti-aliased text matches it): the browser and PDF tests find
# every chart's area on the screenshot by it.
FRAME_BASE = (214, 196, 180)


def frame_colour(index: int) -> tuple[int, int, int]:
    red, green, blue = FRAME_BASE
    return red, green, blue + 4 * index


def html(report: Report) -> str:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True),
    )
    env.filters["spoken"] = spoken
    charts = [
        # matplotlib's own SVG, not user text: safe to embed as markup.
        {
            "caption": caption,
            "svg": Markup(svg),  # noqa: S704 - matplotlib escapes the labels it draws
            "frame": "rgb({}, {}, {})".format(*frame_colour(i)),
        }
        for i, (caption, svg) in enumerate(all_charts(report.figures))
    ]
    return env.get_template("report.html.j2").render(
        report=report,
        figures=report.figures,
        tables=tables(report),
        charts=charts,
        definitions=DEFINITIONS,
        show=show,
    )


def write(
    report: Report,
    out: Path,
    formats: tuple[str, ...],
    progress: Callable[[str], None] = lambda _step: None,
) -> list[Path]:
    """Write the asked formats (figures.json always) into OUT; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    path = out / "figures.json"
    path.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    written.append(path)
    if "csv" in formats:
        progress("tables (CSV)")
        for table in tables(report):
            path = out / f"{table.name}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(table.header)
                writer.writerows(table.rows)
            written.append(path)
    if "html" in formats or "pdf" in formats:
        progress("charts and page")
        page = html(report)
        if "html" in formats:
            path = out / "report.html"
            path.write_text(page, encoding="utf-8")
            written.append(path)
        if "pdf" in formats:
            progress("PDF")
            # Imported here: WeasyPrint loads Pango, which only this step needs.
            from weasyprint import HTML

            path = out / "report.pdf"
            HTML(string=page).write_pdf(str(path))
            written.append(path)
    return written
