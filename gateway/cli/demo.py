"""`mash-gateway demo`: three simulated days of a MASH (the optional dev tools)."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to build the mail world [default: a new temp dir].",
)
@click.option("--keep", is_flag=True, help="Keep the world's directory afterwards.")
@click.option(
    "--speed",
    type=float,
    default=4320.0,
    show_default=True,
    help="Simulated seconds per real second (0: as fast as the gateway goes).",
)
@click.option("--days", type=float, default=3.0, show_default=True, help="Simulated days.")
@click.option("--no-color", is_flag=True, help="Plain output.")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the summary numbers here.",
)
def demo(
    directory: Path | None,
    keep: bool,
    speed: float,
    days: float,
    no_color: bool,
    summary_json: Path | None,
) -> None:
    """Three days of a MASH in about a minute: the real daemon, a local mail world on SQLite,
    simulated referrers, partners and a manager, and a simulated clock."""
    try:
        from gateway_dev.demo import run_demo
    except ImportError:
        # The demo and its mail world are development tools, not part of a production install.
        click.echo(
            "error: the demo is not installed here: `pip install -e ./devtools` (or `make demo`)",
            err=True,
        )
        raise SystemExit(2) from None

    # The timeline is the demo's output; the daemon's own log would bury it.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("gateway.inbound.imap").setLevel(logging.ERROR)
    code = run_demo(
        directory, keep, speed=speed, days=days, color=not no_color, summary_json=summary_json
    )
    raise SystemExit(code)
