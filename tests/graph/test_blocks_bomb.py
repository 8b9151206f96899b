"""A small file whose nested, repeated blocks would open up into millions of nodes is refused
with one located line, before anything is built (MAX_FLAT_NODES)."""

from __future__ import annotations

import itertools
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _node(node_id: str, type_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_id, "label": "", "position": [0, 0], **extra}


def _wire(src: str, dst: str) -> dict[str, str]:
    return {"src": src, "src_port": "y", "dst": dst, "dst_port": "x"}


def bomb(depth: int) -> dict[str, Any]:
    """spiral.nodegrad with relu1 replaced by block ``b{depth}`` repeated 64 times, where each
    ``b{k}`` chains four ``b{k-1}`` and ``b0`` is one ReLU."""
    ports = [_node("x", "block_input", params={}), _node("y", "block_output", params={})]
    blocks = [
        {
            "name": "b0",
            "nodes": [*ports, _node("r", "relu", params={})],
            "edges": [_wire("x", "r"), _wire("r", "y")],
            "exposed": [],
        }
    ]
    for k in range(1, depth + 1):
        uses = [_node(f"u{j}", "block", block=f"b{k - 1}", params={"repeat": 1}) for j in range(4)]
        chain = ["x", "u0", "u1", "u2", "u3", "y"]
        edges = [_wire(a, b) for a, b in itertools.pairwise(chain)]
        blocks.append({"name": f"b{k}", "nodes": [*ports, *uses], "edges": edges, "exposed": []})
    data = json.loads((ROOT / "examples" / "spiral.nodegrad").read_text(encoding="utf-8"))
    for node in data["nodes"]:
        if node["id"] == "relu1":
            node.update(type="block", block=f"b{depth}", params={"repeat": 64})
    data["version"] = 2
    data["blocks"] = blocks
    return data


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_a_file_whose_blocks_multiply_to_millions_of_nodes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.nodegrad"
    path.write_text(json.dumps(bomb(9)), encoding="utf-8")
    assert path.stat().st_size < 12_000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limit_memory,
        check=False,
    )
    message = done.stdout + done.stderr
    assert done.returncode == 1, message
    assert "internal error" not in message, message
    assert "Traceback" not in message, message


def test_validation_names_the_block_node_that_holds_too_many(tmp_path: Path) -> None:
    from app.graph import io
    from app.graph.blocks.flatten import MAX_FLAT_NODES, FlatTooLargeError, flatten
    from app.graph.validate import validate

    path = tmp_path / "bomb.nodegrad"
    path.write_text(json.dumps(bomb(9)), encoding="utf-8")
    doc = io.load(path)
    (problem,) = validate(doc).errors
    assert problem.node_id == "relu1" and f"more than {MAX_FLAT_NODES:,} nodes" in problem.message
    try:
        flatten(doc)
    except FlatTooLargeError as error:
        assert "lower a Repeat" in str(error)
    else:
        raise AssertionError("flatten built the bomb")
    path.write_text(json.dumps(bomb(2)), encoding="utf-8")  # 64 x 16 ReLUs: fine
    assert not [d for d in validate(io.load(path)).errors if "nodes" in d.message]
