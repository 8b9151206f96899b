"""Node titles are white on their category's colour: every colour leaves them readable."""

from __future__ import annotations

import pytest

from app.graph.specs.base import Category
from app.ui.style import TITLE_CONTRAST, category_colour, contrast_with_white


@pytest.mark.parametrize("category", list(Category))
def test_each_category_colour_keeps_white_titles_readable(category: Category) -> None:
    assert contrast_with_white(category_colour(category)) >= TITLE_CONTRAST, category


@pytest.mark.parametrize("name", ["Normalisation", "Experimental", "My layers", "zz", "Audio"])
def test_a_category_without_a_table_entry_gets_a_readable_colour_too(name: str) -> None:
    colour = category_colour(name)
    assert contrast_with_white(colour) >= TITLE_CONTRAST
    assert colour == category_colour(name)  # stable


def test_contrast_matches_known_values() -> None:
    from PySide6.QtGui import QColor

    assert contrast_with_white(QColor("black")) == pytest.approx(21.0)
    assert contrast_with_white(QColor("white")) == pytest.approx(1.0)
    assert contrast_with_white(QColor("#767676")) == pytest.approx(4.54, abs=0.01)
