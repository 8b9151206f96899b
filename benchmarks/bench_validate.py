"""Validation plus shape inference of a 500-node graph against its 50 ms budget.

Run ``.venv/bin/python benchmarks/bench_validate.py [--nodes 500] [--repeats 20]``. The graph is a
digits MLP made of residual blocks (Linear -> ReLU -> Linear -> Add, with LayerNorm and Dropout),
so every node type on the path has its shape inferred from the real dataset. The dataset is
loaded once before timing (validation caches it while its file is unchanged). Prints the best and
median times and their ratio to the budget (at most 1.0 is within budget).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.graph.document import GraphDocument
from app.graph.validate import validate

BUDGET_S = 0.050


def residual_graph(n_nodes: int) -> GraphDocument:
    """A valid classifier of ``n_nodes`` nodes: dataset, blocks of six nodes, head, loss."""
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "digits"}, node_id="data")
    doc.add_node("linear", {"units": 32}, node_id="stem")
    doc.connect("data", "x", "stem", "x")
    prev, block = "stem", 0
    while len(doc.nodes) + 6 + 3 <= n_nodes:
        ids = [f"{kind}_{block}" for kind in ("fc", "act", "fc2", "drop", "sum", "norm")]
        for node_id, type_id, params in zip(
            ids,
            ("linear", "relu", "linear", "dropout", "add", "layer_norm"),
            ({"units": 32}, {}, {"units": 32}, {"p": 0.1}, {}, {}),
            strict=True,
        ):
            doc.add_node(type_id, params, node_id=node_id)
        fc, act, fc2, drop, add, norm = ids
        for src, dst, port in (
            (prev, fc, "x"),
            (fc, act, "x"),
            (act, fc2, "x"),
            (fc2, drop, "x"),
            (drop, add, "a"),
            (prev, add, "b"),
            (add, norm, "x"),
        ):
            doc.connect(src, "y", dst, port)
        prev, block = norm, block + 1
    while len(doc.nodes) + 3 < n_nodes:  # pad with activations up to exactly n_nodes
        node_id = f"pad_{len(doc.nodes)}"
        doc.add_node("tanh", node_id=node_id)
        doc.connect(prev, "y", node_id, "x")
        prev = node_id
    doc.add_node("linear", {"units": 10}, node_id="head")
    doc.add_node("cross_entropy_loss", node_id="loss")
    doc.add_node("output", node_id="out")
    doc.connect(prev, "y", "head", "x")
    doc.connect("head", "y", "loss", "logits")
    doc.connect("data", "y", "loss", "target")
    doc.connect("head", "y", "out", "x")
    return doc


def main() -> int:
    """Time ``validate`` on the generated graph and print the ratio to the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    doc = residual_graph(args.nodes)
    result = validate(doc)  # loads the dataset once, as the editor does on opening
    if not result.ok:
        print("benchmark graph is invalid:", [d.message for d in result.errors][:3])
        return 1
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        validate(doc)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"validate + infer shapes, {len(doc.nodes)} nodes, {len(doc.edges)} wires")
    print(f"  best   {best * 1e3:7.2f} ms   ratio to the 50 ms budget {best / BUDGET_S:.2f}")
    print(f"  median {median * 1e3:7.2f} ms   ratio to the 50 ms budget {median / BUDGET_S:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
