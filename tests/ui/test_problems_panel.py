"""Problems dock and model summary as a first-time user reads them: a word when all is well,
whole node ids and names."""

from __future__ import annotations

from ui_driver import add_by_palette


def _ink_rows(widget) -> int:
    """How many pixel rows of ``widget`` hold something besides the background colour."""
    image = widget.grab().toImage()
    background = image.pixelColor(image.width() - 3, image.height() - 3)
    return sum(
        any(image.pixelColor(x, y) != background for x in range(0, image.width(), 2))
        for y in range(image.height())
    )


def test_an_empty_problems_panel_says_the_graph_is_ready(digits) -> None:
    digits.validate_now()
    panel = digits.problems
    assert panel.messages() == []
    assert _ink_rows(panel.viewport()) > 5  # the "No problems" line is painted
    digits.actions_by_name["actionSelectAll"].trigger()
    digits.actions_by_name["actionDelete"].trigger()
    digits.validate_now()
    assert panel.messages() and _ink_rows(panel.viewport()) > 20


def test_the_node_column_fits_long_node_ids(window) -> None:
    add_by_palette(window, "cross_entropy_loss")
    window.validate_now()
    panel = window.problems
    row = next(
        panel.topLevelItem(i)
        for i in range(panel.topLevelItemCount())
        if panel.topLevelItem(i).text(1) == "'cross_entropy_loss_1'.target"
    )
    needed = panel.fontMetrics().horizontalAdvance(row.text(1))
    assert panel.columnWidth(1) >= needed and row.toolTip(1) == row.text(1)


def test_the_model_summary_shows_whole_node_names(digits) -> None:
    digits.validate_now()
    summary = digits.inspector.summary
    rows = [summary.topLevelItem(i) for i in range(summary.topLevelItemCount())]
    names = [row.text(0) for row in rows]
    assert "Cross-entropy loss 'loss'" in names
    widest = max(summary.fontMetrics().horizontalAdvance(n) for n in names)
    assert summary.columnWidth(0) >= widest + 8
    assert summary.columnWidth(0) + summary.columnWidth(1) <= summary.viewport().width()


def test_the_node_column_names_a_labelled_node_by_its_label(window) -> None:
    linear = add_by_palette(window, "linear")
    window.editor.set_label(linear, "head")
    window.validate_now()
    panel = window.problems
    wheres = [panel.topLevelItem(i).text(1) for i in range(panel.topLevelItemCount())]
    assert "'head'.x" in wheres
