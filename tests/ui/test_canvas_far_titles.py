"""A graph fitted whole at a low zoom can still be read: each node shows its category colour
and its title (or the title's short form) at a fixed on-screen size, within the node."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from app.ui.canvas.far_title import FAR_TITLE_PX, short_title
from app.ui.canvas.node_item import DETAIL_ZOOM, NODE_WIDTH

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def whitish(colour: QColor) -> bool:
    return min(colour.red(), colour.green(), colour.blue()) > 225


@pytest.mark.parametrize("name", ["residual_cnn", "residual_blocks", "char_transformer"])
def test_titles_show_when_the_fitted_graph_is_zoomed_far_out(make_window, name) -> None:
    window = make_window(EXAMPLES / f"{name}.nodegrad", (1400, 900))
    QApplication.processEvents()
    view = window.view
    assert view.zoom() < DETAIL_ZOOM  # the whole graph fits only zoomed far out
    image = view.viewport().grab().toImage()
    window.grab().save(f"/tmp/ui2_far_{name}.png")
    for item in window.scene.node_items():
        box = view.mapFromScene(item.mapRectToScene(QRectF(0, 0, NODE_WIDTH, 8))).boundingRect()
        header = box.adjusted(1, 0, -1, int(FAR_TITLE_PX))  # the title bar, grown for the text
        letters = sum(
            whitish(image.pixelColor(x, y))
            for x in range(header.left(), header.right())
            for y in range(header.top(), header.bottom())
        )
        assert letters >= 6, (item.node_id, item.title)  # white letters on the category colour
        width = int(NODE_WIDTH * view.zoom() - 4)
        text = item.far_title.text(item.title, item.title == item.spec.title, width)
        whole = (item.title, short_title(item.title))
        assert text in whole or len(text.rstrip("…")) >= 3, (item.title, text)  # not "C…"


def test_short_forms_of_type_titles() -> None:
    assert short_title("BatchNorm2d") == "BN2d"
    assert short_title("GlobalAvgPool2d") == "GAP2d"
    assert short_title("Multi-head attention") == "MHA"
    assert short_title("Cross-entropy loss") == "CE"
    assert short_title("MSE loss") == "MSE"
    assert short_title("ReLU") == "ReLU"
    assert short_title("Conv2d") == "Conv2d"
