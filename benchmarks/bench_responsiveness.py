"""Training in the editor: how responsive the window stays, and how much slower it trains.

Trains the default example in the editor (worker thread, live plots and node colours) while a
10 ms timer records the gaps between its ticks on the GUI thread: the longest gap is how long
the event loop was blocked (budget 100 ms). Trains it in the editor again without that timer
(whose hundred wake-ups a second cost the training thread a few percent of its time), then
headless as ``nodegrad train`` does (in a process of its own, without Qt, after a warm-up
epoch), and prints the editor/headless time ratio of the runs without the timer (budget 1.10).
With ``--repeat N`` the runs alternate N times (a shared machine is noisy): the ratio of the
best times is the figure, the median ratio of the pairs is printed beside it. Each editor run
is a new window, so it includes the first layout of the plots (about 25 ms).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_responsiveness.py
[--epochs N] [--repeat N] [--example PATH]``. A benchmark figure, never a timed test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GAP_BUDGET_MS = 100.0
RATIO_BUDGET = 1.10
TICK_MS = 10


def editor_run(path: Path, epochs: int, probe: bool = True) -> tuple[float, list[float], int]:
    """Train in the editor; returns (seconds, gaps between timer ticks in ms, steps). Without
    ``probe`` no timer ticks (the gap list is empty)."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(path=path)
    window.resize(1400, 900)
    window.show()
    window.document.set_setting("epochs", epochs)
    controller = window.training
    clock, gaps = QElapsedTimer(), []
    timer = QTimer(interval=TICK_MS)

    def tick() -> None:
        gaps.append(clock.restart())

    timer.timeout.connect(tick)
    for _ in range(20):
        app.processEvents()
    clock.start()
    if probe:
        timer.start()
    started = time.perf_counter()
    # Wait the way the application does: in a Qt event loop that sleeps until something happens
    # (a busy processEvents() loop would fight the training thread for the GIL).
    controller.run()
    controller.wait_until_idle()
    seconds = time.perf_counter() - started
    timer.stop()
    steps = controller.loss_plot.point_count()
    window.results_room.wait_until_evaluated()
    window.ask_save_changes = lambda: "discard"  # type: ignore[method-assign]  # trained weights
    window.close()
    return seconds, gaps[1:], steps


HEADLESS = """
import sys, time
from pathlib import Path
import engine.kernels
from app.graph.io import load
from app.graph.session import Session
engine.kernels.prepare()  # as ``nodegrad train`` does before its first step
for _ in Session(load(Path(sys.argv[1]))).train(epochs=1):  # warm-up, as the editor's
    pass
started = time.perf_counter()  # building the session counts, as in the editor's run
session = Session(load(Path(sys.argv[1])))
for _ in session.train(epochs=int(sys.argv[2])):
    pass
print(time.perf_counter() - started)
assert "PySide6" not in sys.modules
"""


def headless_run(path: Path, epochs: int) -> float:
    """Train the same graph without a window, as ``nodegrad train`` does: in a process of its
    own that never imports Qt (PySide6 slows every import statement of its process); seconds."""
    done = subprocess.run(
        [sys.executable, "-c", HEADLESS, str(path.resolve()), str(epochs)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    """Print the longest event-loop gap and the editor/headless speed ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--example", type=Path, default=ROOT / "examples" / "digits_mlp.nodegrad")
    options = parser.parse_args(argv)
    editor_run(options.example, 1, probe=False)  # warm-up: imports, kernels, dataset cache
    editor_times, probed_times, headless_times, gaps = [], [], [], []
    for _ in range(options.repeat):
        probed_s, run_gaps, steps = editor_run(options.example, options.epochs)
        probed_times.append(probed_s)
        gaps.extend(run_gaps)
        editor_times.append(editor_run(options.example, options.epochs, probe=False)[0])
        headless_times.append(headless_run(options.example, options.epochs))
    editor_s, headless_s = min(editor_times), min(headless_times)
    pairs = statistics.median(e / h for e, h in zip(editor_times, headless_times, strict=True))
    longest = max(gaps) if gaps else float("nan")
    gaps.sort()
    p99 = gaps[int(0.99 * (len(gaps) - 1))] if gaps else float("nan")
    ratio = editor_s / headless_s
    print(
        f"graph: {options.example.name}, {options.epochs} epochs, {steps} steps, "
        f"{options.repeat} run(s) each"
    )
    print(
        f"event loop: longest gap {longest:.1f} ms, 99th percentile {p99:.1f} ms "
        f"over {len(gaps)} ticks of {TICK_MS} ms; ratio to the {GAP_BUDGET_MS:.0f} ms budget "
        f"{longest / GAP_BUDGET_MS:.2f}"
    )
    print(
        f"training time (best): editor {editor_s:.2f} s, headless {headless_s:.2f} s; "
        f"editor/headless {ratio:.3f} (budget {RATIO_BUDGET:.2f}; ratio to budget "
        f"{ratio / RATIO_BUDGET:.2f}); median of the paired ratios {pairs:.3f}; with the "
        f"10 ms probe timer running: {min(probed_times) / headless_s:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
