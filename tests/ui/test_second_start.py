"""Starting the editor again with the saved layout leaves no stray dock tab bar behind."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QTabBar

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.nodegrad"


def visible_tab_bars(window) -> list[tuple[str, ...]]:
    bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.count()]
    return [tuple(b.tabText(i) for i in range(b.count())) for b in bars]


def test_the_second_start_has_one_tab_bar_per_dock_group(make_window) -> None:
    first = make_window(DIGITS, (1400, 860))
    first.close()  # saves the layout, as quitting does
    QApplication.processEvents()
    for _ in range(2):
        window = make_window(DIGITS, (1400, 860))
        bars = visible_tab_bars(window)
        assert len(bars) == len(set(bars)), bars  # no stale copy of a group's tabs
        palette = window.docks["paletteDock"].geometry()
        for bar in window.findChildren(QTabBar):
            if bar.isVisible() and bar.count():
                assert not bar.geometry().intersects(palette), bar.tabText(0)
        window.close()
        QApplication.processEvents()
