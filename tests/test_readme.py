"""The README's first command is the main job, and it runs to a clean finish."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "the README starts with a shell block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("# mash-gateway\n\n```sh\n"), "the commands come first"
    assert readme_commands() == ["make demo", "make test"]


def test_first_readme_command_runs_to_a_clean_finish() -> None:
    command = readme_commands()[0]
    done = subprocess.run(
        command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Three days of the MASH" in out and "finished in" in out
    # The full scenario's known answers (the first day's are in test_demo.py).
    assert re.search(r"contacts\s+│\s+5 │", out), out[-3000:]
    assert re.search(r"outcome letters sent\s+│\s+3 │", out)
    assert re.search(r"outcome letters withheld\s+│\s+1 │", out)
    assert re.search(r"chases\s+│\s+2 │", out) and re.search(r"escalations\s+│\s+1 │", out)
    assert "reminder 2 on MASH-2026-000002 copied to escalation" in out
    assert "Wed 09:40  !!!  screening decision overdue on MASH-2026-000005" in out
    # The night: the Emergency Duty Team has the urgent alerts, and acknowledges them.
    assert "Mon 23:40  !!!  URGENT alert 3 on MASH-2026-000004" in out
    assert "Tue 00:00  IN   alert 3 on MASH-2026-000004 acknowledged by Emergency Duty Team" in out
