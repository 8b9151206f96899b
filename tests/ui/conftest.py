"""Fixtures of the editor tests: an isolated settings/data folder and a window that never blocks.

Settings (QSettings) and recovery files go to a temporary folder for the whole session, so the
tests neither read nor change the user's editor state.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = tempfile.mkdtemp(prefix="nodegrad-ui-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")

import pytest  # noqa: E402

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.nodegrad"


@pytest.fixture(autouse=True, scope="session")
def _collect_on_gui_thread(qapp: Any) -> Iterator[None]:
    """As the editor does from its first window: Python's cyclic garbage collection runs on the
    GUI thread only, also for tests that build panels without a window (app/ui/gui_gc.py);
    automatic collection is back on at the end of the session."""
    from app.ui.gui_gc import collect_on_gui_thread, stop_collecting

    collect_on_gui_thread()
    yield
    stop_collecting()


@pytest.fixture(autouse=True)
def _never_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer the editor's blocking prompts: discard changes, no file chosen."""
    try:
        from app.ui.main_window import MainWindow
    except ImportError:
        return
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: "discard")
    monkeypatch.setattr(MainWindow, "ask_open_path", lambda self: "")
    monkeypatch.setattr(MainWindow, "ask_save_path", lambda self, *a: "")


@pytest.fixture(autouse=True)
def _fresh_layout() -> None:
    """Each test's windows start from the default layout: a window closed by an earlier test
    (one that trained, say, and raised the training docks) must not shrink this one's canvas."""
    from PySide6.QtCore import QSettings

    settings = QSettings()
    settings.remove("geometry")
    settings.remove("windowState")


@pytest.fixture
def make_window(qtbot) -> Callable[..., Any]:
    """Build editor windows: ``make_window(path=None, size=(1400, 900))`` opens ``path`` (None:
    an empty document), shows the window offscreen at ``size`` and waits until it is exposed.
    The view fits the graph by itself (see ``GraphView.auto_fit``)."""
    from app.ui.main_window import MainWindow

    def make(path: str | os.PathLike[str] | None = None, size: tuple[int, int] = (1400, 900)):
        w = MainWindow(path=path)
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        return w

    return make


@pytest.fixture
def window(make_window):
    """An empty editor window, shown offscreen at a fixed size."""
    return make_window()


@pytest.fixture
def digits(make_window):
    """The editor on the default example (``examples/digits_mlp.nodegrad``), 1500×950."""
    return make_window(DIGITS, (1500, 950))
