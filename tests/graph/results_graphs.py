"""Small graphs with hand-set data for the evaluation, sampling, runs and CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.session import Session

CORPUS = "the cat sat on the mat. the rat ate the hat. a cat and a rat sat.\n" * 6


def linear_graph(
    folder: Path, rows: list[tuple[list[float], float]], units: int, loss: str
) -> Path:
    """A CSV dataset of ``rows`` (features, target) -> Linear(units) -> loss and Output.

    No validation split, so evaluation reads every row in order.
    """
    n = len(rows[0][0])
    lines = [",".join([*(f"f{i}" for i in range(n)), "target"])]
    lines += [",".join([*(repr(v) for v in features), repr(target)]) for features, target in rows]
    data = folder / "data.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "csv", "path": str(data), "target": "target"}, node_id="data")
    doc.add_node("linear", {"units": units}, node_id="fc")
    task = "classification" if loss == "cross_entropy_loss" else "regression"
    doc.add_node(loss, {}, node_id="loss")
    doc.add_node("output", {"task": task}, node_id="output")
    doc.connect("data", "x", "fc", "x")
    doc.connect("fc", "y", "output", "x")
    first = "logits" if loss == "cross_entropy_loss" else "pred"
    doc.connect("fc", "y", "loss", first)
    doc.connect("data", "y", "loss", "target")
    doc.set_setting("val_split", 0.0)
    path = folder / "graph.nodegrad"
    io.save(doc, path)
    return path


def char_graph(folder: Path, **settings: Any) -> Path:
    """A tiny character model (Embedding 8 -> LSTM 16 -> Linear) on a small corpus."""
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    vocab = len(set(CORPUS))
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "text", "path": str(corpus), "seq_len": 12}, node_id="text")
    doc.add_node("embedding", {"vocab_size": vocab, "dim": 8}, node_id="embed")
    doc.add_node("lstm", {"hidden": 16}, node_id="lstm")
    doc.add_node("linear", {"units": vocab}, node_id="logits")
    doc.add_node("cross_entropy_loss", {}, node_id="loss")
    doc.add_node("output", {"task": "classification"}, node_id="output")
    for wire in [
        ("text", "x", "embed", "x"),
        ("embed", "y", "lstm", "x"),
        ("lstm", "y", "logits", "x"),
        ("logits", "y", "loss", "logits"),
        ("text", "y", "loss", "target"),
        ("logits", "y", "output", "x"),
    ]:
        doc.connect(*wire)
    for name, value in {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16,
                        "epochs": 2, "val_split": 0.2, **settings}.items():  # fmt: skip
        doc.set_setting(name, value)
    path = folder / "chars.nodegrad"
    io.save(doc, path)
    return path


def trained(path: Path, epochs: int = 2, save: bool = True) -> Session:
    """A session of the graph at ``path`` trained for ``epochs``; its weights saved beside it."""
    session = Session(io.load(path))
    for _ in session.train(epochs=epochs):
        pass
    if save:
        io.save_weights(session.weights(), io.weights_path(path))
    return session


def identity(n: int) -> dict[str, np.ndarray]:
    """Weights of ``fc`` (n -> n) that pass the features through as they are."""
    return {"fc.weight": np.eye(n, dtype=np.float32), "fc.bias": np.zeros(n, dtype=np.float32)}
