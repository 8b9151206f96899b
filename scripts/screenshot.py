"""Render the editor offscreen with the default example and save it as docs/screenshot.png.

Usage: ``.venv/bin/python scripts/screenshot.py [OUTPUT.png] [--example NAME] [--epochs N]``.
The window is the real one (``app.ui.main_window.MainWindow``) with fresh settings, so the
picture does not depend on the layout of whoever runs the script. It first trains the example
for a few epochs (``--epochs 0`` skips that) so the plots and the gradient bands show.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1600, 1000


def main(argv: list[str] | None = None) -> int:
    """Render the window and write the PNG; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--example", default="digits_mlp", help="examples/NAME.nodegrad")
    parser.add_argument("--epochs", type=int, default=8, help="train this long first")
    options = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="nodegrad-screenshot-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["nodegrad"])
    app.setApplicationName("nodegrad")
    example = ROOT / "examples" / f"{options.example}.nodegrad"
    if not example.exists():
        print(f"screenshot: no example {example}", file=sys.stderr)
        return 1
    window = MainWindow(path=example)
    window.resize(WIDTH, HEIGHT)
    window.show()
    for _ in range(5):
        app.processEvents()
    window.view.fit_all()
    window.validate_now()
    if options.epochs > 0:
        train(app, window, options.epochs)
    window.statusBar().clearMessage()  # "Opened /path/on/this/machine" is no part of the picture
    app.processEvents()
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(output)):
        print(f"screenshot: could not write {output}", file=sys.stderr)
        return 1
    window.undo_stack.setClean()  # the script saves nothing: close without asking to save
    window.close()
    print(f"wrote {output}")
    return 0


def train(app: Any, window: Any, epochs: int) -> None:
    """Train the window's graph for ``epochs`` through its Run action and wait for the end."""
    window.document.set_setting("epochs", epochs)
    window.undo_stack.setClean()  # no "modified" marker in the picture
    window.training.run()
    window.training.wait_until_idle()
    window.results_room.wait_until_evaluated()
    for _ in range(20):  # let the throttled plots draw their last points
        app.processEvents()
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
