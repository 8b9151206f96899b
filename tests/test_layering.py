"""The rooms' dependency rule: ui -> graph -> engine, never upward, and Qt only in app/ui."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "engine": ("PySide6", "pyqtgraph", "networkx", "app"),
    "app/graph": ("PySide6", "pyqtgraph", "app.ui"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module name a source file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_never_imports_upward(room: str) -> None:
    offenders = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for name in imported_modules(path):
            for banned in FORBIDDEN[room]:
                if name == banned or name.startswith(banned + "."):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_scanner_sees_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom PySide6.QtCore import Qt\ndef f():\n    import networkx\n")
    assert imported_modules(source) == {"os", "PySide6.QtCore", "networkx"}
