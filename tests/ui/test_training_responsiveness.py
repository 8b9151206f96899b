"""The event loop keeps running while the editor trains: a figure, never a timed assertion.

The longest gap between the ticks of a 10 ms timer during a run is recorded as a test property
(``record_property``, shown in JUnit reports) and printed; the budget (100 ms, in
docs/ARCHITECTURE.md) is judged from that figure and from ``benchmarks/bench_responsiveness.py``,
not asserted here, because a shared CI machine makes wall-clock limits flaky. What is asserted is
that the loop was not frozen: the timer kept ticking through the whole run.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

TICK_MS = 10


def test_timer_keeps_ticking_while_training(qtbot, digits, record_property) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 1000)  # long enough to outlast the ticks we wait for
    clock, gaps_while_training = QElapsedTimer(), []

    def tick() -> None:
        gap = clock.restart()
        if ctrl.is_training():
            gaps_while_training.append(gap)

    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    # Wait as the application does, in a plain event loop (qtbot.waitUntil's polling adds its
    # own gaps), until 50 ticks came while training, however long they take; 60 s at most.
    loop = QEventLoop()
    enough = QTimer(interval=TICK_MS)
    enough.timeout.connect(lambda: loop.quit() if len(gaps_while_training) >= 50 else None)
    QTimer.singleShot(60_000, loop.quit)
    ctrl.run()
    enough.start()
    loop.exec()
    enough.stop()
    assert len(gaps_while_training) >= 50  # the loop kept running during the run
    assert ctrl.is_training()
    ctrl.actions.stop.trigger()
    qtbot.waitUntil(lambda: not ctrl.is_training(), timeout=30_000)
    timer.stop()

    longest = max(gaps_while_training[1:])
    record_property("longest_event_loop_gap_ms", longest)
    print(
        f"longest event-loop gap while training: {longest} ms over {len(gaps_while_training)} ticks"
    )


def test_the_responsiveness_benchmark_runs_to_its_end(tmp_path) -> None:
    """benchmarks/bench_responsiveness.py trains in a real window and closes it: a question
    left open (the trained weights' 'Save changes?') would hang it, as it once did."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_responsiveness.py"), "--epochs", "1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "event loop: longest gap" in done.stdout and "editor/headless" in done.stdout
