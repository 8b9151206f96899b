"""Canvas benchmark: a 500-node, 600-wire graph. Time to open it, frames per second while panning
and zooming it (scripted, painted synchronously offscreen).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_canvas.py``. Prints each
measure and its ratio to the budget (ratio <= 1 meets an upper bound, >= 1 a lower bound).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.graph.document import GraphDocument

ROOT = Path(__file__).resolve().parents[1]
N_NODES, N_WIRES = 500, 600
OPEN_BUDGET_S = 1.0
FPS_BUDGET = 30.0
FRAMES = 60


def big_document() -> GraphDocument:
    """An input, then a chain of Linear/ReLU/Tanh/Add nodes; Adds take a second, earlier wire."""
    import random

    from app.graph.document import GraphDocument

    rng = random.Random(0)
    doc = GraphDocument()
    doc.add_node("input", {"shape": "16"}, (0, 0))
    ids = ["input_1"]
    extra = N_WIRES - (N_NODES - 1)
    adds = 0
    for i in range(1, N_NODES):
        position = ((i // 20) * 240.0, (i % 20) * 120.0)
        if i % 4 == 0 and adds < extra:
            type_id, params = "add", {}
            adds += 1
        else:
            type_id = ("linear", "relu", "tanh")[i % 3]
            params = {"units": 16} if type_id == "linear" else {}
        doc.add_node(type_id, params, position)
        node_id = list(doc.nodes)[-1]
        first = doc.nodes[node_id].spec.inputs[0].name
        doc.connect(ids[-1], _out(ids[-1]), node_id, first)
        if type_id == "add":
            src = rng.choice(ids[:-1])
            doc.connect(src, _out(src), node_id, "b")
        ids.append(node_id)
    return doc


def _out(node_id: str) -> str:
    return "x" if node_id == "input_1" else "y"


def main() -> int:
    """Build, save, open and pan/zoom the big graph; print the timings and ratios."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="nodegrad-bench-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.graph import io
    from app.graph.validate import validate
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["bench"])
    doc = big_document()
    assert len(doc.nodes) == N_NODES and len(doc.edges) == N_WIRES, (len(doc.nodes), len(doc.edges))
    path = Path(home) / "big.nodegrad"
    io.save(doc, path)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    start = time.perf_counter()
    assert window.files.open(path)
    app.processEvents()
    window.view.viewport().repaint()
    open_s = time.perf_counter() - start
    start = time.perf_counter()
    validate(window.document)
    validate_s = time.perf_counter() - start
    print(
        f"open {N_NODES} nodes / {N_WIRES} wires: {open_s * 1000:.0f} ms "
        f"(budget {OPEN_BUDGET_S * 1000:.0f} ms, ratio {open_s / OPEN_BUDGET_S:.2f})"
    )
    print(f"  of which validation: {validate_s * 1000:.1f} ms")
    for label, zoom in (("whole graph in view", None), ("zoom 1.0", 1.0)):
        fps = pan_zoom_fps(app, window, zoom)
        print(
            f"pan/zoom, {label}: {fps:.1f} frames/s "
            f"(budget {FPS_BUDGET:.0f}, ratio {fps / FPS_BUDGET:.2f})"
        )
    window.undo_stack.setClean()
    window.close()
    return 0


def pan_zoom_fps(app, window, zoom: float | None) -> float:
    """Frames per second of a scripted pan/zoom, each frame painted before the next."""
    view = window.view
    view.fit_all()
    if zoom is not None:
        view.zoom_by(zoom / view.zoom())
    bar = view.horizontalScrollBar()
    app.processEvents()
    start = time.perf_counter()
    for frame in range(FRAMES):
        if frame % 2:
            bar.setValue(bar.value() + (25 if frame % 4 == 1 else -20))
        else:
            view.zoom_by(1.03 if frame % 4 == 0 else 1 / 1.03)
        view.viewport().repaint()
    app.processEvents()
    return FRAMES / (time.perf_counter() - start)


if __name__ == "__main__":
    sys.exit(main())
