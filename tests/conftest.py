"""Hypothesis runs the same examples on every run unless asked otherwise, so a green commit
stays green; ``HYPOTHESIS_PROFILE=explore`` draws new ones (scale the counts with
``NODEGRAD_EXPLORE``, see ``tests/property_budget.py``) to hunt for bugs before landing."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
