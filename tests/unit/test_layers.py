"""The core's layers depend one way: the domain on nothing outside it, services on ports and never on engines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("services", ("core.engines",)),
    ("domain", ("core.engines", "core.services", "core.adapters", "core.db", "core.runtime", "core.ports")),
])
def test_a_layer_does_not_import_the_layers_above_it(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = {f"{path.relative_to(CORE)}: {module}" for path in sorted((CORE / layer).rglob("*.py"))
                 for module in imported_modules(path) if module.startswith(forbidden)}
    assert not offenders
