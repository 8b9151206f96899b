"""The tensor view dock: a node's value or gradient as numbers, a heatmap and a histogram; text
samples as characters, predictions against their targets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.training.tensor_data import (
    TensorEntry,
    channel_count,
    colour_levels,
    histogram,
    picture,
    sample_count,
    sample_text,
    stats_text,
    token_labels,
)

EMPTY_TEXT = "Step forward, or click a node after a step, to see its tensors."
VALUE_MAP = pg.colormap.get("viridis")
GRAD_MAP = pg.colormap.get("CET-D1")
GREY_MAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (0, 0, 0)])
TOKEN_AXES = ("left", "bottom")  # queries down the side, keys along the bottom


class TensorView(QWidget):
    """Shows one tensor of one node: statistics, a heatmap with colour bar and a histogram.

    A node offers several tensors (its output ports and, for a parameter node, each weight);
    a combo box picks one and a value/gradient toggle picks which of the two is drawn. Spin
    boxes pick the sample of a batch (``tensorSample``) and the channel of an image tensor
    (``tensorChannel``; its label reads "Head" for an attention map, whose axes show the sample's
    characters for a text dataset, else time indices). Token indices show as characters and a
    prediction against its target in ``tensorText``; pictures are captioned with their class.
    The object name is ``tensorView``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tensorView")
        self._entries: list[TensorEntry] = []
        self.shown: np.ndarray | None = None

        self.title = QLabel(EMPTY_TEXT)
        self.title.setObjectName("tensorTitle")
        self.title.setWordWrap(True)
        self.tensor_box = QComboBox()
        self.tensor_box.setObjectName("tensorChoice")
        self.tensor_box.currentIndexChanged.connect(self._redraw)
        self.value_button = QRadioButton("Value")
        self.grad_button = QRadioButton("Gradient")
        self.value_button.setChecked(True)
        self._mode_group = QButtonGroup(self)
        self._mode_group.addButton(self.value_button)
        self._mode_group.addButton(self.grad_button)
        self.value_button.toggled.connect(self._redraw)
        self.stats = QLabel("")
        self.stats.setObjectName("tensorStats")
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats.setMinimumHeight(2 * self.stats.fontMetrics().lineSpacing() + 2)
        self.caption = QLabel("")

        row = QHBoxLayout()
        row.addWidget(self.tensor_box, 1)
        row.addWidget(self.value_button)
        row.addWidget(self.grad_button)
        self.sample_box = self._picker("tensorSample", "Sample")
        self.channel_box = self._picker("tensorChannel", "Channel")
        self.channel_label = QLabel("Channel")
        self.channel_label.setObjectName("tensorChannelLabel")
        self._pickers = [
            (QLabel("Sample"), self.sample_box),
            (self.channel_label, self.channel_box),
        ]
        self._tokens: list[str] | None = None
        self._ticks: dict[str, list[tuple[float, str]]] = {}
        pick = QHBoxLayout()
        for label, box in self._pickers:
            pick.addWidget(label)
            pick.addWidget(box)
        pick.addStretch(1)
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("tensorText")
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(240)
        self.graphics.setBackground("w")
        self.image_plot = self.graphics.addPlot(row=0, col=0)
        self.image_plot.invertY(True)
        self.image_plot.setAspectLocked(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.image)
        self.image_plot.getViewBox().sigResized.connect(self._label_axes)
        self.colour_bar = pg.ColorBarItem(colorMap=VALUE_MAP, interactive=False, width=14)
        self.colour_bar.setImageItem(self.image, insert_in=self.image_plot)
        self.hist_plot = self.graphics.addPlot(row=1, col=0)
        self.hist_plot.setLabel("left", "count")
        self.hist_curve = self.hist_plot.plot(
            [], [], stepMode="center", fillLevel=0, brush=(80, 120, 200, 150), pen=(40, 70, 160)
        )
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addLayout(pick)
        layout.addWidget(self.stats)
        layout.addWidget(self.caption)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(self.graphics, 3)
        self.clear()

    def _picker(self, name: str, tip: str) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(name)
        box.setToolTip(f"{tip} to show (from 0)")
        box.valueChanged.connect(self._redraw)
        return box

    @property
    def mode(self) -> str:
        """``"value"`` or ``"gradient"``."""
        return "value" if self.value_button.isChecked() else "gradient"

    def set_mode(self, mode: str) -> None:
        """Draw values or gradients."""
        (self.value_button if mode == "value" else self.grad_button).setChecked(True)

    def shown_shape(self) -> tuple[int, ...] | None:
        """The shape of the tensor drawn now, or None when nothing is drawn."""
        return None if self.shown is None else tuple(self.shown.shape)

    def entry_names(self) -> list[str]:
        """The names of the tensors the current node offers."""
        return [entry.name for entry in self._entries]

    def select(self, name: str) -> None:
        """Pick the tensor with this name (an output port or parameter)."""
        self.tensor_box.setCurrentIndex(self.entry_names().index(name))

    def show_tensors(
        self, title: str, entries: Sequence[TensorEntry], mode: str | None = None
    ) -> None:
        """Show a node's tensors; ``mode`` switches value/gradient when given."""
        self._entries = list(entries)
        self.title.setText(title)
        self.tensor_box.blockSignals(True)
        self.tensor_box.clear()
        self.tensor_box.addItems(self.entry_names())
        self.tensor_box.blockSignals(False)
        if mode is not None:
            self.value_button.blockSignals(True)
            self.set_mode(mode)
            self.value_button.blockSignals(False)
        self._redraw()

    def clear(self) -> None:
        """Show nothing (the step-through was reset)."""
        self.show_tensors(EMPTY_TEXT, [])

    def _current(self) -> np.ndarray | None:
        index = self.tensor_box.currentIndex()
        if not 0 <= index < len(self._entries):
            return None
        entry = self._entries[index]
        return entry.value if self.mode == "value" else entry.grad

    def _redraw(self) -> None:
        array = self._current()
        self.shown = None if array is None else np.asarray(array)
        entry = self._entry()
        self._update_pickers(entry)
        if self.shown is None or entry is None:
            self.graphics.setVisible(False)
            self.text_view.setVisible(False)
            self.stats.setText("" if not self._entries else f"no {self.mode} yet")
            self._draw_picture(None, False)
            self.hist_curve.setData([], [])
            return
        self.stats.setText(stats_text(self.shown))
        text = sample_text(entry, self.shown, self.sample_box.value())
        self.text_view.setVisible(text is not None)
        if text is not None and self.text_view.toPlainText() != text:
            self.text_view.setPlainText(text)
        as_characters = text is not None and entry.target is None
        self.graphics.setVisible(not as_characters)  # characters, not a 5×5 picture of codes
        if as_characters:
            self.caption.setText(f"{self.shown.shape[-1]} characters per sample")
            return
        self._draw_picture(self.shown, entry.is_param, entry.image)
        bins = histogram(self.shown)
        if bins is None:
            self.hist_curve.setData([], [])
        else:
            self.hist_curve.setData(*bins)

    def _entry(self) -> TensorEntry | None:
        index = self.tensor_box.currentIndex()
        return self._entries[index] if 0 <= index < len(self._entries) else None

    def _update_pickers(self, entry: TensorEntry | None) -> None:
        """Offer the sample and channel pickers where the shown tensor has them."""
        array = self.shown
        samples = 0 if array is None or entry is None else sample_count(array, entry.is_param)
        channels = 0 if array is None or entry is None else channel_count(array, entry.is_param)
        for (label, box), count in zip(self._pickers, (samples, channels), strict=True):
            box.blockSignals(True)
            box.setRange(0, max(count - 1, 0))
            box.blockSignals(False)
            box.setVisible(count > 1)
            label.setVisible(count > 1)
        name = "Head" if entry is not None and entry.heads else "Channel"
        self.channel_label.setText(name)
        self.channel_box.setToolTip(f"{name} to show (from 0)")

    def _draw_picture(
        self, array: np.ndarray | None, is_param: bool = False, image: bool = False
    ) -> None:
        sample, channel = self.sample_box.value(), self.channel_box.value()
        entry = self._entry()
        heads = entry is not None and entry.heads
        name = "head" if heads else "channel"
        pic = None if array is None else picture(array, is_param, image, sample, channel, name)
        self._tokens = self._sample_tokens(sample) if heads and pic is not None else None
        self._label_axes()
        if pic is None:
            self.image.clear()
            self.caption.setText("" if array is None else "a single number: no heatmap")
            return
        gradient = self.mode == "gradient"
        cmap = GRAD_MAP if gradient else (GREY_MAP if pic.is_image else VALUE_MAP)
        levels = colour_levels(pic.pixels, symmetric=gradient)
        self.colour_bar.setColorMap(cmap)
        self.image.setImage(np.nan_to_num(pic.pixels), autoLevels=False)
        self.colour_bar.setLevels(levels)
        self.image_plot.setAspectLocked(pic.is_image)
        self.image_plot.autoRange()
        self.caption.setText(pic.caption + self._class_caption(sample))

    def _sample_tokens(self, sample: int) -> list[str] | None:
        """The characters of a sample of the shown attention map, when it is text."""
        entry = self._entry()
        if entry is None or entry.tokens is None or entry.vocab is None:
            return None
        row = entry.tokens[min(max(sample, 0), len(entry.tokens) - 1)]
        return token_labels(row, entry.vocab)

    def axis_labels(self, side: str) -> list[tuple[float, str]] | None:
        """The tick labels set on the heatmap's ``"left"`` or ``"bottom"`` axis (None: numbers)."""
        return self._ticks.get(side)

    def _label_axes(self) -> None:
        """Label the heatmap's axes with the tokens, skipping some when they would crowd."""
        box, font = self.image_plot.getViewBox().size(), self.fontMetrics()
        spacing = {"left": font.height() + 2, "bottom": font.averageCharWidth() * 3}
        self._ticks.clear()
        for side, extent in zip(TOKEN_AXES, (box.height(), box.width()), strict=True):
            axis = self.image_plot.getAxis(side)
            if self._tokens is None:
                axis.setTicks(None)
                continue
            step = -(-len(self._tokens) // max(int(extent // spacing[side]), 1))
            ticks = [(i + 0.5, c) for i, c in enumerate(self._tokens) if i % step == 0]
            self._ticks[side] = ticks
            axis.setTicks([ticks])

    def class_of(self, sample: int) -> int | None:
        """The class of a sample of the shown tensor, when its entry carries labels."""
        entry = self._entry()
        labels = None if entry is None else entry.labels
        if labels is None or not 0 <= sample < len(labels):
            return None
        return int(labels[sample])

    def _class_caption(self, sample: int) -> str:
        label = self.class_of(sample)
        return "" if label is None else f": class {label}"
