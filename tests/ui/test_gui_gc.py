"""Cyclic garbage is collected on the GUI thread only (``app/ui/gui_gc.py``): a worker thread
that allocates never runs the collector, so it never destroys a Qt widget; and the results
panel's pages not on a tab belong to the panel, so Python never frees them at all."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

from app.ui import gui_gc
from app.ui.gui_gc import collecting


class Finalized:
    """A reference cycle (it holds itself) that records the thread which frees it."""

    threads: list[str] = []  # noqa: RUF012  (shared on purpose: the record outlives the object)

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Finalized.threads.append(threading.current_thread().name)


def test_the_window_moves_collection_to_the_gui_thread(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert collecting() and not gc.isenabled()
    Finalized.threads.clear()
    Finalized()  # garbage now, but only the cyclic collector can free it

    def allocate() -> None:  # far past every generation's threshold
        keep = [[i] for i in range(300_000)]
        del keep

    worker = threading.Thread(target=allocate, name="allocating-worker")
    worker.start()
    worker.join()
    assert Finalized.threads == []  # the worker's allocations collected nothing
    # which generation the object is in by now depends on what ran before (it failed 1 full
    # run in 3 waiting for a young generation to fill): every generation over its threshold
    monkeypatch.setattr(gui_gc._collector, "threshold", (-1, -1, -1))
    qtbot.waitUntil(lambda: bool(Finalized.threads), timeout=5000)  # the GUI thread's timer
    assert Finalized.threads == [threading.main_thread().name]


def test_results_pages_off_the_tabs_belong_to_the_panel(digits: Any) -> None:
    from app.ui.results.results_panel import ResultsPanel

    panel = digits.findChild(ResultsPanel)
    pages = (panel.classification, panel.per_class, panel.scatter, panel.series, panel.sampler)
    assert all(page.parent() is not None for page in pages)
    assert not any(page.isVisibleTo(panel) for page in pages if panel.tabs.indexOf(page) < 0)


def test_stopping_turns_automatic_collection_back_on(window: Any) -> None:
    from app.ui.gui_gc import collect_on_gui_thread, stop_collecting

    try:
        stop_collecting()
        assert gc.isenabled() and not collecting()
    finally:
        collect_on_gui_thread()  # as the rest of the session expects
    assert collecting() and not gc.isenabled()
