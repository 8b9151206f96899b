"""A gallery of samples with their true and predicted classes: images as images, else rows."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.graph.evaluation import Evaluation
from app.ui.results.samples import SampleKind, sample_kind, sample_pixmap, sample_text

MAX_SHOWN = 200
ICON = 64


class SampleGallery(QWidget):
    """The samples of one selection (``sampleGallery``): mistakes, or a confusion cell's.

    Each entry names the sample's index in the evaluated split, its true class, the predicted
    class and the model's confidence in it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setObjectName("galleryTitle")
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("sampleGallery")
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        self.shown: list[int] = []

    def show_samples(self, result: Evaluation, indices: list[int], title: str) -> None:
        """List ``indices`` (samples of ``result``'s split), at most :data:`MAX_SHOWN`."""
        self.list.clear()
        self.shown = indices[:MAX_SHOWN]
        more = f" (first {MAX_SHOWN} shown)" if len(indices) > MAX_SHOWN else ""
        self.title.setText(f"{title}: {len(indices)} sample(s){more}")
        dataset = result.dataset
        if dataset is None or result.predicted is None or result.actual is None:
            return
        images = sample_kind(dataset) is SampleKind.IMAGE
        self._layout_for(images)
        for index in self.shown:
            true, guess = int(result.actual[index]), int(result.predicted[index])
            confidence = float(result.probs[index, guess]) if result.probs is not None else 0.0
            names = result.classes
            label = f"true {names[true]}\npred {names[guess]} ({100 * confidence:.0f}%)"
            if images:
                item = QListWidgetItem(QIcon(sample_pixmap(dataset, index)), label)
            else:
                row = f"#{index}  true {names[true]}, predicted {names[guess]} "
                item = QListWidgetItem(f"{row}({100 * confidence:.0f}%):  "
                                       f"{sample_text(dataset, index)}")  # fmt: skip
            item.setToolTip(f"sample {index} of the {result.split} split")
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.list.addItem(item)

    def _layout_for(self, images: bool) -> None:
        """A wrapping grid of pictures for images, one line per sample otherwise."""
        if images:
            self.list.setViewMode(QListView.ViewMode.IconMode)
            self.list.setIconSize(QSize(ICON, ICON))
            self.list.setGridSize(QSize(ICON + 48, ICON + 44))
            self.list.setResizeMode(QListView.ResizeMode.Adjust)
            self.list.setMovement(QListView.Movement.Static)
            self.list.setWordWrap(True)
        else:
            self.list.setViewMode(QListView.ViewMode.ListMode)
            self.list.setGridSize(QSize())
            self.list.setWordWrap(False)
