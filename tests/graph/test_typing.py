"""app/graph type-checks under ``mypy --strict``, with no ``type: ignore`` left to hide behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRAPH = ROOT / "app" / "graph"


def test_graph_is_clean_under_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is not installed")
    done = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports",
            "--follow-imports=silent", "--cache-dir", str(tmp_path), str(GRAPH),
        ],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_graph_has_no_type_ignores() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(GRAPH.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore" in line
    ]
    assert not found, found
