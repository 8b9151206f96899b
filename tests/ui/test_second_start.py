"""Starting the editor again with the saved layout leaves no stray dock tab bar behind."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QTabBar, QWidget

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.nodegrad"


class ShowSpy(QObject):
    """Notes when the widget it filters is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        self.shown = self.shown or event.type() == QEvent.Type.Show
        return False


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


def test_the_end_of_run_message_is_not_cut_off_at_the_default_size(qtbot, make_window) -> None:
    window = make_window(DIGITS, (1400, 860))  # the default window size
    window.document.set_setting("epochs", 1)
    progress = window.training.actions.progress
    spy = ShowSpy()
    progress.installEventFilter(spy)
    window.training.run()
    qtbot.waitUntil(lambda: not window.training.is_training(), timeout=60_000)
    assert spy.shown  # the progress showed while it trained (hidden when idle)
    QApplication.processEvents()
    bar = window.statusBar()
    message = bar.currentMessage()
    assert message.startswith("Training finished")
    taken = sum(w.width() for w in bar.findChildren(QWidget) if w.isVisible() and w.parent() is bar)
    room = bar.width() - taken
    assert bar.fontMetrics().horizontalAdvance(message) < room, (message, room)
