"""How many examples a property test draws: its own count, times ``NODEGRAD_EXPLORE`` (1 by
default; a long bug hunt sets it to 20 with ``HYPOTHESIS_PROFILE=explore``)."""

from __future__ import annotations

import os


def examples(count: int) -> int:
    """``count`` scaled by the ``NODEGRAD_EXPLORE`` factor."""
    return count * max(1, int(os.environ.get("NODEGRAD_EXPLORE", "1")))
