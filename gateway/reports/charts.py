"""The report's charts: matplotlib (Agg, no display) drawn to SVG that the page embeds.

Charts are drawn from the published figures, so a hidden small number is never drawn: its
bar is left out, and the caption says so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from gateway.reports.check_figures import ALL
from gateway.reports.suppress import MARK

# Colour-blind-safe (Okabe and Ito), in a fixed order so a source keeps its colour.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
RAG_COLOURS = {"red": "#C0392B", "amber": "#E69F00", "green": "#2E8B57"}
STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "mash-gateway",  # the same figures give the same bytes
    # Text as text (the page's own fonts), not glyph outlines: a third of the size, and
    # WeasyPrint lays the PDF out several times faster.
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and value != MARK else 0.0


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    FigureCanvasSVG(figure)
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    # The page holds several charts: no XML prologue, no RDF metadata block.
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    return text


def _own_ids(svg: str, prefix: str) -> str:
    """matplotlib numbers its ids per figure (line2d_1, ...): on one page they would clash,
    and a chart's <use> could draw another chart's shape. Prefix them, and what refers to them."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)


def _figure(width: float = 7.5, height: float = 3.2) -> Figure:
    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def stacked_weeks(weeks: Sequence[Mapping[str, Any]], key: str, title: str) -> str:
    figure = _figure()
    axes = figure.add_subplot()
    labels = [w["week_starting"][5:] for w in weeks]
    names = list(weeks[0][key]) if weeks else []
    bottom = [0.0] * len(weeks)
    for index, name in enumerate(names):
        heights = [_number(w[key][name]) for w in weeks]
        axes.bar(labels, heights, bottom=bottom, label=name, color=PALETTE[index % len(PALETTE)])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_title(title, loc="left")
    axes.set_xlabel("week starting (month-day)")
    axes.set_ylabel("contacts")
    axes.set_ylim(bottom=0)
    axes.tick_params(axis="x", labelrotation=60)
    axes.legend(ncols=min(len(names), 6) or 1, fontsize=7, loc="upper left", frameon=False)
    return _svg(figure)


def conversion(rows: Mapping[str, Mapping[str, Any]], title: str) -> str:
    figure = _figure(7.5, 3.6)
    axes = figure.add_subplot()
    sources = list(rows)
    outcomes = list(next(iter(rows.values()))) if rows else []
    left = [0.0] * len(sources)
    for index, outcome in enumerate(outcomes):
        widths = [_number(rows[s][outcome]) for s in sources]
        axes.barh(sources, widths, left=left, label=outcome, color=PALETTE[index % len(PALETTE)])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_title(title, loc="left")
    axes.set_xlabel("outcomes recorded")
    axes.set_xlim(left=0)
    axes.invert_yaxis()
    axes.legend(fontsize=7, loc="lower right", frameon=False)
    return _svg(figure)


def shares(values: Mapping[str, Any], title: str, target: float | None = None) -> str:
    figure = _figure(7.5, 2.8)
    axes = figure.add_subplot()
    names = list(values)
    bars = [100 * _number(values[n]) if values[n] is not None else 0.0 for n in names]
    axes.barh(names, bars, color=PALETTE[0])
    for y, (name, value) in enumerate(zip(names, bars, strict=True)):
        shown = values[name]
        label = "no cases" if shown is None else MARK if shown == MARK else f"{value:.0f}%"
        axes.text(min(value, 100) + 1, y, label, va="center", fontsize=8)
    axes.set_xlim(0, 115)
    axes.set_xlabel("per cent")
    if target is not None:
        axes.axvline(100 * target, color="#555555", linestyle="--", linewidth=1)
    axes.set_title(title, loc="left")
    axes.invert_yaxis()
    return _svg(figure)


def checks_by_agency(
    checks: Mapping[str, Mapping[str, Mapping[str, Any]]], field: str, title: str, unit: str
) -> str:
    figure = _figure(7.5, 3.2)
    axes = figure.add_subplot()
    agencies = [a for a in checks if a != ALL]
    rags = [r for r in next(iter(checks.values())) if r != ALL] if checks else []
    width = 0.8 / max(len(rags), 1)
    for index, rag in enumerate(rags):
        scale = 100.0 if unit == "per cent" else 1.0
        heights = [scale * _number(checks[a][rag][field]) for a in agencies]
        positions = [i + (index - (len(rags) - 1) / 2) * width for i in range(len(agencies))]
        axes.bar(
            positions,
            heights,
            width=width,
            label=rag.upper(),
            color=RAG_COLOURS.get(rag, PALETTE[index]),
        )
    axes.set_xticks(range(len(agencies)), agencies)
    axes.set_ylabel(unit)
    axes.set_ylim(bottom=0)
    axes.set_title(title, loc="left")
    axes.legend(fontsize=7, frameon=False)
    return _svg(figure)


def counts(values: Mapping[str, Any], title: str, xlabel: str) -> str:
    figure = _figure(7.5, 2.6)
    axes = figure.add_subplot()
    names = list(values)
    axes.barh(names, [_number(values[n]) for n in names], color=PALETTE[2])
    axes.set_xlabel(xlabel)
    axes.set_xlim(left=0)
    axes.set_title(title, loc="left")
    axes.invert_yaxis()
    return _svg(figure)


def all_charts(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(caption, SVG) for every chart, in the page's order."""
    weeks = figures["contacts_per_week"]
    timeliness = {
        "C: statutory-response decision within 24 hours": figures["decision_within_24h_share"],
        "D: early-help outcome within 72 hours": figures["decision_within_72h_share"],
        "information requests within 10 working days": figures["rfi_within_10_working_days_share"],
    }
    quality = {
        k.replace("_", " "): v for k, v in figures["data_quality"].items() if k != "referrals"
    }
    # rcParams are read as artists are made and saved: the style holds here, and only here.
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        drawn = _draw(figures, weeks, timeliness, quality)
    return [(caption, _own_ids(svg, f"chart{i}-")) for i, (caption, svg) in enumerate(drawn)]


def _draw(
    figures: Mapping[str, Any], weeks: Any, timeliness: Any, quality: Any
) -> list[tuple[str, str]]:
    return [
        (
            "Contacts per week, by source",
            stacked_weeks(weeks, "by_source", "Contacts per week by source"),
        ),
        (
            "Contacts per week, by channel",
            stacked_weeks(weeks, "by_channel", "Contacts per week by channel"),
        ),
        (
            "Outcomes by source of the contact",
            conversion(figures["conversion_by_source"], "Outcomes by source"),
        ),
        ("Decisions and information requests on time", shares(timeliness, "Share on time")),
        (
            "Partner checks answered on time",
            checks_by_agency(
                figures["checks"],
                "on_time_share",
                "Checks answered on time, by agency and RAG",
                "per cent",
            ),
        ),
        (
            "Median response to partner checks",
            checks_by_agency(
                figures["checks"],
                "median_response_hours",
                "Median response, by agency and RAG",
                "hours",
            ),
        ),
        ("Data quality of referrals", counts(quality, "Referrals missing details", "referrals")),
    ]
