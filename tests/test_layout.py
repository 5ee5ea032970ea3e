"""The layout is the architecture: imports point one way, modules stay small, privates stay home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "gateway"

# cli -> daemon -> inbound/sweeps/reports -> domain -> outbound -> mail/crypto/store -> config/clock
RANKS = {
    "cli": 0,
    "daemon": 1,
    "inbound": 2,
    "sweeps": 2,
    "reports": 2,
    "domain": 3,
    "outbound": 4,
    "mail": 5,
    "crypto": 5,
    "store": 5,
    "config": 6,
    "clock": 6,
    "durations": 6,
    "retry": 6,
    "timescales": 6,
}
# Pure helpers below the rule's floor: config validates addresses with them and nothing else.
ALLOWED = {("config", "mail.addresses")}
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _area(module: str) -> str:
    return module.split(".", 1)[0]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def test_every_area_has_a_rank() -> None:
    areas = {_area(_name(p)) for p in _modules() if _name(p)}
    assert areas - {"__main__"} <= set(RANKS), areas - set(RANKS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    here = _name(path)
    if not here or here == "__main__":
        return
    rank = RANKS[_area(here)]
    wrong = []
    for module, _names in _imports(path):
        if not module.startswith("gateway."):
            continue
        target = module.removeprefix("gateway.")
        if _area(target) == _area(here) or (_area(here), target) in ALLOWED:
            continue
        if RANKS.get(_area(target), 99) < rank:
            wrong.append(module)
    assert not wrong, f"{here} imports upwards: {wrong}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_crosses_a_package(path: Path) -> None:
    here = _name(path)
    crossing = [
        f"{module}.{name}"
        for module, names in _imports(path)
        if module.startswith("gateway.") and _area(module.removeprefix("gateway.")) != _area(here)
        for name in names
        if name.startswith("_")
    ]
    assert not crossing, f"{here} imports private names: {crossing}"


def test_domain_never_imports_inbound() -> None:
    for path in (PACKAGE / "domain").rglob("*.py"):
        assert not any(m.startswith("gateway.inbound") for m, _ in _imports(path)), path


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by idea"


def test_production_code_never_imports_the_dev_tools() -> None:
    """The demo and the local mail world are a separate distribution; only the CLI's `demo`
    command reaches for them, and says how to install them when they are missing."""
    for path in _modules():
        for module, _names in _imports(path):
            if module.startswith("gateway_dev"):
                assert _name(path) == "cli.demo", f"{path} imports {module}"
