"""Fixtures of the editor tests: an isolated settings/data folder and a window that never blocks.

Settings (QSettings) and recovery files go to a temporary folder for the whole session, so the
tests neither read nor change the user's editor state.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = tempfile.mkdtemp(prefix="nodegrad-ui-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")

import pytest  # noqa: E402


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


@pytest.fixture
def window(qtbot):
    """An empty editor window, shown offscreen at a fixed size."""
    from app.ui.main_window import MainWindow

    w = MainWindow(path=None)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w
