"""Status-bar messages can be read beside the model summary: a long one makes the summary
compact and loses the middle of its path, never its start or the file's name."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from ui_driver import digits_document

from app.graph import io


def long_path(tmp_path: Path) -> Path:
    folder = tmp_path / ("experiments_with_a_long_folder_name_" * 2) / "second_level_folder_too"
    folder.mkdir(parents=True)
    path = folder / "my_residual_network_final.nodegrad"
    io.save(digits_document(), path)
    return path


def test_a_long_opened_path_is_shown_whole_or_elided_in_the_middle(make_window, tmp_path) -> None:
    window = make_window(size=(1100, 700))
    path = long_path(tmp_path)
    assert window.files.open(path)
    QApplication.processEvents()  # the bar lays out the compact summary
    bar, summary = window.statusBar(), window.status_summary
    shown = bar.currentMessage()
    assert shown.startswith("Opened ") and shown.endswith("my_residual_network_final.nodegrad")
    assert "…" in shown  # the folders in the middle gave way
    assert bar.toolTip() == f"Opened {path}"  # the whole message is one hover away
    end_of_message = bar.fontMetrics().horizontalAdvance(shown) + 8
    assert end_of_message < summary.geometry().left()  # nothing drawn under the summary
    assert summary.text() == "0 errors · 0 warnings"
    assert "nodes" in summary.toolTip()
    bar.grab().save("/tmp/ui2_status_long_path.png")
    bar.clearMessage()
    QApplication.processEvents()
    assert "parameters" in summary.text() and bar.toolTip() == ""
    assert summary.width() >= summary.sizeHint().width()  # the whole summary is back
    bar.grab().save("/tmp/ui2_status_cleared.png")


def test_a_short_message_leaves_the_summary_whole(window) -> None:
    window.show_message("Copied 2 nodes")
    assert window.statusBar().currentMessage() == "Copied 2 nodes"
    assert "parameters" in window.status_summary.text()
    assert window.statusBar().toolTip() == ""
