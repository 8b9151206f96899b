"""Training and seeing inside: run controls, live plots, gradient colours, step-through.

``install(main_window)`` is the room's entry point; ``MainWindow.__init__`` calls it last.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget

from app.ui.training.controller import TrainingController
from app.ui.training.grad_plot import GradPlot
from app.ui.training.loss_plot import LossPlot
from app.ui.training.run_actions import build_run_actions
from app.ui.training.tensor_view import TensorView
from engine.backend import gpu_unavailable_reason

__all__ = ["TrainingController", "install"]


def _dock(window: Any, name: str, title: str, widget: Any, area: Qt.DockWidgetArea) -> QDockWidget:
    if hasattr(window, "add_dock"):
        dock = window.add_dock(name, title, widget, area)
    else:
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.addDockWidget(area, dock)
    if hasattr(window, "docks"):
        window.docks[name] = dock
    return dock


def _arrange(window: Any, docks: dict[str, QDockWidget]) -> None:
    """Loss and gradient plots tabbed beside Problems; the tensor view tabbed with the
    inspector (a step-through raises it)."""
    others = getattr(window, "docks", {})
    loss, grad, tensor = docks["lossPlotDock"], docks["gradPlotDock"], docks["tensorViewDock"]
    if "problemsDock" in others:
        window.splitDockWidget(others["problemsDock"], loss, Qt.Orientation.Horizontal)
        window.resizeDocks([others["problemsDock"], loss], [1, 2], Qt.Orientation.Horizontal)
    window.tabifyDockWidget(loss, grad)
    loss.raise_()
    if "inspectorDock" in others:  # the inspector is locked while stepping anyway
        window.tabifyDockWidget(others["inspectorDock"], tensor)
        others["inspectorDock"].raise_()
    if not QSettings().value("windowState"):  # a saved layout, restored after install, wins
        _DockSizer(window, loss)


class _DockSizer(QObject):
    """Gives the plots a useful height when the window is first shown (sizes set before the
    window has a geometry are lost)."""

    def __init__(self, window: Any, loss: QDockWidget) -> None:
        super().__init__(window)
        self._window, self._loss = window, loss
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first Show: make the bottom docks about a third of the window's height."""
        if watched is self._window and event.type() == QEvent.Type.Show:
            self._window.removeEventFilter(self)
            height = max(220, self._window.height() // 3)
            QTimer.singleShot(
                0, lambda: self._window.resizeDocks([self._loss], [height], Qt.Orientation.Vertical)
            )
        return False


def install(window: Any) -> TrainingController:
    """Add the run controls, the plots and the tensor view to ``window``; return the controller.

    The controller is also ``window.training``: MainWindow's Save asks
    ``window.training.weights()`` for the weights to write beside the graph.
    """
    bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    loss_plot, grad_plot, tensor_view = LossPlot(), GradPlot(), TensorView()
    docks = {
        "lossPlotDock": _dock(window, "lossPlotDock", "Loss", loss_plot, bottom),
        "gradPlotDock": _dock(window, "gradPlotDock", "Gradients", grad_plot, bottom),
        "tensorViewDock": _dock(window, "tensorViewDock", "Tensor", tensor_view, right),
    }
    _arrange(window, docks)
    for name, plot in (("lossPlotDock", loss_plot), ("gradPlotDock", grad_plot)):
        # a plot behind its neighbour's tab skips its updates and catches up when raised
        docks[name].visibilityChanged.connect(lambda shown, p=plot: shown and p.refresh())
    actions = build_run_actions(window, gpu_unavailable_reason())
    controller = TrainingController(window, actions, loss_plot, grad_plot, tensor_view, docks)
    window.training = controller
    return controller
