"""Generate text with a trained language model: prompt, length, temperature, seed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.graph.compile import Program
from app.graph.errors import GraphError
from app.graph.sampling import sample_text
from engine.data import Dataset

ProgramSource = Callable[[], Program | None]


class SamplerWidget(QWidget):
    """A prompt, a length, a temperature and a seed; Generate writes the model's text
    (``sampler``; fields ``samplerPrompt``, ``samplerLength``, ``samplerTemperature``,
    ``samplerSeed``, button ``samplerGenerate``, output ``samplerOutput``)."""

    def __init__(self, program: ProgramSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sampler")
        self._program = program
        self.prompt = QLineEdit("The ")
        self.prompt.setObjectName("samplerPrompt")
        self.length = QSpinBox()
        self.length.setObjectName("samplerLength")
        self.length.setRange(1, 5000)
        self.length.setValue(200)
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("samplerTemperature")
        self.temperature.setRange(0.05, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.7)
        self.seed = QSpinBox()
        self.seed.setObjectName("samplerSeed")
        self.seed.setRange(0, 1_000_000)
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("samplerGenerate")
        self.generate.clicked.connect(self.run)
        self.prompt.returnPressed.connect(self.run)
        self.output = QPlainTextEdit()
        self.output.setObjectName("samplerOutput")
        self.output.setReadOnly(True)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel("")
        self.status.setObjectName("samplerStatus")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Prompt", self.prompt)
        numbers = QHBoxLayout()
        for label, box in (("Length", self.length), ("Temperature", self.temperature),
                           ("Seed", self.seed)):  # fmt: skip
            numbers.addWidget(QLabel(label))
            numbers.addWidget(box)
        numbers.addStretch(1)
        numbers.addWidget(self.generate)
        form.addRow(numbers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.status)

    def suggest_prompt(self, dataset: Dataset) -> None:
        """Start the prompt from the corpus when the current one has characters it lacks."""
        vocab = set(dataset.vocab or [])
        if self.prompt.text() and set(self.prompt.text()) <= vocab:
            return
        self.prompt.setText(dataset.decode(dataset.x[0][:8]))
        self.status.setText("")

    def run(self) -> None:
        """Generate text from the prompt with the trained model (a message when it cannot)."""
        program = self._program()
        if program is None:
            self.status.setText("Train the model (or open it with its weights) to generate text.")
            return
        try:
            text = sample_text(
                program, self.prompt.text(), self.length.value(), self.temperature.value(),
                self.seed.value(),
            )  # fmt: skip
        except GraphError as error:
            self.status.setText(str(error))
            return
        self.output.setPlainText(text)
        self.status.setText(
            f"{self.length.value()} characters at temperature {self.temperature.value():g}, "
            f"seed {self.seed.value()}"
        )
