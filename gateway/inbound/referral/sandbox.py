"""Read an attached form in a child process, under a time and a memory limit.

A hostile .docx or PDF (a zip bomb under the size caps, a PDF whose objects refer to each other
without end) can cost minutes and gigabytes inside python-docx or pypdf. Run there, it would
hold up every message behind it, an urgent referral included. Run here, it costs at most
`seconds` of wall time and `memory_bytes` of address space, then the child is killed and the
message is quarantined as too costly.

The child is a fresh interpreter (`python -m gateway.inbound.referral.sandbox KIND`): the form
bytes go in on stdin, the reading comes back as JSON on stdout. It sets its own limits before it
imports either library, so nothing it parses runs unlimited.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from gateway.inbound.referral.layout import Item, Line, Row

DEFAULT_SECONDS = 20.0
DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024
# The reading of a form is its text and pairs: far smaller than the form.
_MAX_OUTPUT = 8 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS
    memory_bytes: int = DEFAULT_MEMORY_BYTES


class SandboxLimit(Exception):
    """The child ran out of time or memory: the form costs more than a form may."""


class SandboxFailed(Exception):
    """The child could not read the form (a damaged file): the reason, never the content."""


def read_in_child(
    kind: str, data: bytes, limits: Limits
) -> tuple[str, list[tuple[str, str]], list[Item]]:
    """(text, pairs, items in document order) of a "docx" or "pdf" form, read by a limited
    child process."""
    command = [
        sys.executable,
        "-I",  # isolated: no user site, no PYTHON* variables, no current directory on the path
        "-m",
        "gateway.inbound.referral.sandbox",
        kind,
        str(limits.memory_bytes),
        str(int(limits.seconds) + 1),
    ]
    try:
        done = subprocess.run(  # our own interpreter and module, fixed arguments
            command,
            input=data,
            capture_output=True,
            timeout=limits.seconds,
            check=False,
            env=_child_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise SandboxLimit(f"reading took over {limits.seconds:g} s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("ascii", "replace").strip().splitlines()
        last = reason[-1][:200] if reason else f"exit status {done.returncode}"
        if "MemoryError" in last or done.returncode < 0:
            raise SandboxLimit(f"reading needed over {limits.memory_bytes // 2**20} MB ({last})")
        raise SandboxFailed(last)
    if len(done.stdout) > _MAX_OUTPUT:
        raise SandboxLimit("the reading is larger than any form")
    result = json.loads(done.stdout)
    items: list[Item] = [
        Row(tuple(str(c) for c in i["row"]), bool(i["header"]), int(i["table"]))
        if "row" in i
        else Line(str(i["line"]), int(i["depth"]))
        for i in result.get("items", [])
    ]
    return str(result["text"]), [(str(a), str(b)) for a, b in result["pairs"]], items


def _child_env() -> dict[str, str]:
    """Only what an interpreter needs to find the installed packages; no secrets passed on."""
    import os

    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    # -I drops PYTHONPATH, so the gateway is found as installed (an editable install included).
    return env


def _child_main(argv: list[str]) -> int:
    import resource

    kind, memory, cpu = argv[0], int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    data = sys.stdin.buffer.read()
    from gateway.inbound.referral import attached_forms

    try:
        if kind == "docx":
            text, pairs, items = attached_forms.docx_form(data)
        elif kind == "pdf":
            text, pairs, items = "", attached_forms.pdf_pairs(data), []
        else:
            print(f"unknown kind {kind!r}", file=sys.stderr)
            return 2
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - the parent reports the kind of failure only
        print(f"{type(exc).__name__}", file=sys.stderr)
        return 1
    encoded = [
        {"row": list(i.cells), "header": i.header, "table": i.table}
        if isinstance(i, Row)
        else {"line": i.text, "depth": i.depth}
        for i in items
    ]
    sys.stdout.write(json.dumps({"text": text, "pairs": pairs, "items": encoded}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
