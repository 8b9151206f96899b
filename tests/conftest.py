"""Shared test settings.

Hypothesis runs the same examples on every run unless asked otherwise, so a green commit stays
green; ``HYPOTHESIS_PROFILE=explore`` draws new ones (scale the counts with
``NODEGRAD_EXPLORE``, see ``tests/property_budget.py``) to hunt for bugs before landing.

No test may write into the repository's bundled folders (a run recorded or weights saved
beside an example would ship with the next commit or change what the next test opens): the
session fails if a file appeared there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
GUARDED = ("examples", "resources")


def _files() -> set[Path]:
    return {p for folder in GUARDED for p in (ROOT / folder).rglob("*") if p.is_file()}


@pytest.fixture(autouse=True, scope="session")
def _bundled_folders_untouched() -> Iterator[None]:
    before = _files()
    yield
    added = sorted(
        str(p.relative_to(ROOT)) for p in _files() - before if "__pycache__" not in p.parts
    )
    assert not added, f"tests wrote into the repository: {', '.join(added)}"
