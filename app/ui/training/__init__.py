"""Training and seeing inside: run controls, live plots, gradient colours, step-through.

``install(main_window)`` is the room's entry point; ``MainWindow.__init__`` calls it last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.ui.training.controller import TrainingController
from app.ui.training.grad_plot import GradPlot
from app.ui.training.host import TrainingHost
from app.ui.training.loss_plot import LossPlot
from app.ui.training.run_actions import build_run_actions
from app.ui.training.tensor_view import TensorView
from engine.backend import gpu_unavailable_reason

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

__all__ = ["TrainingController", "TrainingHost", "install"]


def _arrange(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Loss and gradient plots tabbed beside Problems; the tensor view tabbed with the
    inspector (a step-through raises it)."""
    if QSettings().value("windowState"):  # the saved layout, restored after install, wins;
        return  # tabifying first would leave stray tab bars behind after the restore
    loss, grad, tensor = docks["lossPlotDock"], docks["gradPlotDock"], docks["tensorViewDock"]
    problems, inspector = docks["problemsDock"], docks["inspectorDock"]
    window.splitDockWidget(problems, loss, Qt.Orientation.Horizontal)
    window.resizeDocks([problems, loss], [1, 2], Qt.Orientation.Horizontal)
    window.tabifyDockWidget(loss, grad)
    loss.raise_()
    window.tabifyDockWidget(inspector, tensor)  # the inspector is locked while stepping anyway
    inspector.raise_()
    _DockSizer(window, loss)


class _DockSizer(QObject):
    """Gives the plots a useful height when the window is first shown (sizes set before the
    window has a geometry are lost)."""

    def __init__(self, window: QMainWindow, loss: QDockWidget) -> None:
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


def install(window: MainWindow) -> TrainingController:
    """Add the run controls, the plots and the tensor view to ``window``; return the controller.

    The window keeps the controller as ``window.training``; the controller itself only sees
    the editor parts named in its :class:`TrainingHost`.
    """
    bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    loss_plot, grad_plot, tensor_view = LossPlot(), GradPlot(), TensorView()
    for name, title, widget, area in (
        ("lossPlotDock", "Loss", loss_plot, bottom),
        ("gradPlotDock", "Gradients", grad_plot, bottom),
        ("tensorViewDock", "Tensor", tensor_view, right),
    ):
        window.add_dock(name, title, widget, area)
    docks = window.docks
    _arrange(window, docks)
    for name, plot in (("lossPlotDock", loss_plot), ("gradPlotDock", grad_plot)):
        # a plot behind its neighbour's tab skips its updates and catches up when raised
        docks[name].visibilityChanged.connect(lambda shown, p=plot: shown and p.refresh())
    actions = build_run_actions(
        window, window.menu_run, window.toolbar, window.actions_by_name, gpu_unavailable_reason()
    )
    host = TrainingHost(
        holder=window.holder,
        editor=window.editor,
        scene=window.scene,
        view=window.view,
        status=window,
        problems=window,
        docks=docks,
        lock_editing=window.set_editing_locked,
        reveal_node=window.reveal_node,
        window=window,
        scope=window.editor.scope,
    )
    return TrainingController(host, actions, loss_plot, grad_plot, tensor_view)
