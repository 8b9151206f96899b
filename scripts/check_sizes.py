"""Fail when a source module grows past the house limit (cf. tinygrad's sz.py).

Modules should stay small enough to read in one sitting; this keeps that promise checked in CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

MAX_LINES = 450
ROOTS = ("engine", "app")


def oversized(root: Path) -> list[tuple[Path, int]]:
    """Return every Python module under the source roots longer than MAX_LINES."""
    found = []
    for name in ROOTS:
        for path in sorted((root / name).rglob("*.py")):
            lines = sum(1 for _ in path.open(encoding="utf-8"))
            if lines > MAX_LINES:
                found.append((path.relative_to(root), lines))
    return found


def main() -> int:
    """Print the oversized modules and return a non-zero status when there are any."""
    big = oversized(Path(__file__).resolve().parents[1])
    for path, lines in big:
        print(f"{path}: {lines} lines (limit {MAX_LINES}); split it")
    return 1 if big else 0


if __name__ == "__main__":
    sys.exit(main())
