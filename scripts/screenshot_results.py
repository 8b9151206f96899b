"""Render the results, try-it and runs docks after two runs, as docs/results.png.

Usage: ``.venv/bin/python scripts/screenshot_results.py [OUTPUT.png]``. The digits classifier is
copied to a temporary folder (its runs are recorded beside it) and trained twice, the second
time with another learning rate; the runs dock compares both curves on the loss plot.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1600, 1000


def main(argv: list[str] | None = None) -> int:
    """Train, arrange the docks, write the PNG; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else ROOT / "docs" / "results.png"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="nodegrad-screenshot-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["nodegrad"])
    graph = Path(home) / "digits.nodegrad"
    shutil.copy(ROOT / "examples" / "digits_mlp.nodegrad", graph)
    window = MainWindow(path=graph)
    window.resize(WIDTH, HEIGHT)
    window.show()
    settle(app)
    train(app, window, epochs=3, learning_rate=0.01)
    train(app, window, epochs=3, learning_rate=0.003)
    room = window.results_room
    docks = window.docks
    arrange(window, docks)
    table = room.runs.table
    for row in range(table.rowCount()):
        table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    table.clearSelection()
    room.tryit.sample.setValue(7)
    room.tryit.load_sample(7)
    window.undo_stack.setClean()
    window.statusBar().clearMessage()
    settle(app)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(output)):
        print(f"screenshot: could not write {output}", file=sys.stderr)
        return 1
    window.close()
    print(f"wrote {output}")
    return 0


def arrange(window: Any, docks: dict[str, Any]) -> None:
    """Results at the bottom left, the runs over the loss plot at the bottom right, try-it on
    the right; the palette, problems and gradients are closed for the picture."""
    from PySide6.QtCore import Qt

    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    for name in ("paletteDock", "problemsDock", "gradPlotDock"):
        docks[name].hide()
    results, runs, loss = docks["results"], docks["runs"], docks["lossPlotDock"]
    for dock in (results, runs, loss):
        window.removeDockWidget(dock)
    window.addDockWidget(bottom, results)
    window.splitDockWidget(results, runs, Qt.Orientation.Horizontal)
    window.splitDockWidget(runs, loss, Qt.Orientation.Vertical)
    for dock in (results, runs, loss, docks["tryIt"]):
        dock.show()
        dock.raise_()
    window.resizeDocks([results, runs], [820, 780], Qt.Orientation.Horizontal)
    window.resizeDocks([results], [560], Qt.Orientation.Vertical)
    window.resizeDocks([runs, loss], [200, 360], Qt.Orientation.Vertical)


def settle(app: Any) -> None:
    """Let layouts and throttled plots catch up."""
    for _ in range(10):
        app.processEvents()
        time.sleep(0.03)


def train(app: Any, window: Any, epochs: int, learning_rate: float) -> None:
    """One run through the Run action, waited for."""
    window.editor.set_setting("epochs", epochs)
    window.editor.set_setting("learning_rate", learning_rate)
    window.training.run()
    window.training.wait_until_idle()
    window.results_room.wait_until_evaluated()
    settle(app)


if __name__ == "__main__":
    sys.exit(main())
