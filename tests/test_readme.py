"""The README's engine listing runs as written and its network learns."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    """Every fenced ```python block of a Markdown text."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_listing_trains() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README lost its engine listing"
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(blocks[0], "README.md", "exec"), namespace)
    losses = [float(line.strip("[]")) for line in printed.getvalue().split()]
    assert len(losses) == 10
    assert losses[-1] < losses[0] / 5
