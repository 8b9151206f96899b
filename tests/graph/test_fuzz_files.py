"""Seeded fuzzing: mutated example files through the loader, validation, saving and the CLI.

Every case must end in a loaded (and re-savable) document or a :class:`FileFormatError`;
validation of what loads raises nothing; the CLI exits 0 or 1 with a message, never an internal
error. Each case runs under a time cap (SIGALRM, a hang detector far above a case's real cost);
memory stays bounded by construction (the mutations add at most a few hundred KB to a file)
and the process's peak memory is checked at the end.
"""

from __future__ import annotations

import copy
import json
import random
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.graph import io
from app.graph.errors import FileFormatError
from app.graph.specs import REGISTRY, ParamSpec, ParamType
from app.graph.validate import validate

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.nodegrad"))
SEED = 20_261_203
CASES = 2_400
CLI_EVERY = 12  # every n-th case also goes through `nodegrad validate FILE`
CASE_SECONDS = 20  # a hang detector: cases take milliseconds

HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    1,
    2**31,
    10**400,
    -(10**300),
    1e308,
    -0.0,
    0.5,
    "",
    "x",
    "linear",
    "1,8,8",
    "-1",
    "\ud800",
    "a" * 5000,
    [],
    [1, 2],
    [1, 2, 3],
    ["a"],
    {},
    {"id": "x"},
    [[[[[]]]]],
]
TEXT_SNIPPETS = [
    "[" * 5000,
    "{" * 3000,
    "9" * 4400,
    "NaN",
    "-Infinity",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    "1e999",
    '"',
    "\\",
    "\x00",
    ",",
    "]}",
    "null",
]


def paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into ``value`` (keys and indices), the root included."""
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*here, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*here, i))


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


def mutate_data(rng: random.Random, data: dict[str, Any]) -> str:
    """Change one to three places of the parsed file; return it as JSON text."""
    for _ in range(rng.randint(1, 3)):
        targets = [p for p in paths(data) if p]
        path = rng.choice(targets)
        parent, key = parent_of(data, path), path[-1]
        action = rng.random()
        if action < 0.55:
            parent[key] = copy.deepcopy(rng.choice(HOSTILE))
        elif action < 0.7:
            del parent[key]
        elif action < 0.8:
            other = parent_of(data, (*rng.choice(targets), 0))
            parent[key] = copy.deepcopy(other)
        elif action < 0.9 and isinstance(parent, dict):
            parent[rng.choice(["id", "type", "extra", "src", "\ud800", "params"])] = copy.deepcopy(
                rng.choice(HOSTILE)
            )
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return json.dumps(data, ensure_ascii=rng.random() < 0.5)


def mutate_graph(rng: random.Random, data: dict[str, Any]) -> str:
    """Edits a person could make: parameters at their limits, rewired or dropped wires and
    nodes, other node types; the file stays well-formed, the graph may not be."""
    nodes, edges = data["nodes"], data["edges"]
    for _ in range(rng.randint(1, 3)):
        action = rng.random()
        node = rng.choice(nodes)
        if action < 0.45 and node["type"] in REGISTRY:
            spec = REGISTRY[node["type"]]
            if spec.params:
                p = rng.choice(spec.params)
                node["params"][p.name] = rng.choice(limit_values(p))
        elif action < 0.6 and edges:
            edges.pop(rng.randrange(len(edges)))
        elif action < 0.75 and edges:
            edge, source = rng.choice(edges), rng.choice(nodes)
            outputs = REGISTRY[source["type"]].outputs if source["type"] in REGISTRY else ()
            if outputs:
                edge.update(src=source["id"], src_port=rng.choice(outputs).name)
        elif action < 0.85:
            node["type"] = rng.choice(sorted(REGISTRY))
            node["params"] = {}
        elif len(nodes) > 1:
            gone = nodes.pop(rng.randrange(len(nodes)))["id"]
            data["edges"] = edges = [e for e in edges if gone not in (e["src"], e["dst"])]
    return json.dumps(data)


def limit_values(p: ParamSpec) -> list[Any]:
    """Values of a parameter at and just past its limits."""
    if p.choices:
        return list(p.choices)
    if p.type is ParamType.BOOL:
        return [True, False]
    if p.type is ParamType.STR:
        return ["", "1", "3,4", "1,8,8", "-1,4", "1000000,1000000", "missing.csv"]
    values = [v for v in (p.minimum, p.maximum) if v is not None] or [0, 1, 10**6]
    return [*values, *(v + 1 for v in values), *(v - 1 for v in values), p.default]


def mutate_text(rng: random.Random, text: str) -> str:
    """Cut, repeat or splice characters of the file's text."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randint(0, 40))
        action = rng.random()
        if action < 0.3:
            text = text[:i] + rng.choice(TEXT_SNIPPETS) + text[j:]
        elif action < 0.5:
            text = text[:i] + text[j:]
        elif action < 0.7:
            text = text[:i] + text[i:j] * rng.randint(2, 5) + text[j:]
        elif action < 0.85:
            text = text[:i] + chr(rng.randrange(0x20, 0x3000)) + text[i + 1 :]
        else:
            text = text[:i]
    return text


def fuzz_cases() -> Iterator[tuple[int, str]]:
    rng = random.Random(SEED)
    bases = [p.read_text(encoding="utf-8") for p in EXAMPLES]
    for case in range(CASES):
        base = rng.choice(bases)
        kind = rng.random()
        if kind < 0.35:
            yield case, mutate_graph(rng, json.loads(base))
        elif kind < 0.7:
            yield case, mutate_data(rng, json.loads(base))
        else:
            yield case, mutate_text(rng, base)


class CaseTimeout(Exception):
    """A case ran past :data:`CASE_SECONDS`."""


@contextmanager
def time_cap(seconds: int) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def run_case(text: str, folder: Path, with_cli: bool, cli: Callable[[list[str]], int]) -> str:
    """What happened: ``refused``, ``invalid`` or ``valid``; raises on anything unexpected."""
    try:
        doc = io.loads(text)
    except FileFormatError as err:
        assert err.problems and all("\n" not in p for p in err.problems), err.problems
        outcome = "refused"
    else:
        doc.base_dir = EXAMPLES[0].parent
        result = validate(doc)
        assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()  # what loads saves
        outcome = "valid" if result.ok else "invalid"
    if with_cli:
        path = folder / "case.nodegrad"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        status = cli(["validate", str(path)])
        assert status in (0, 1)
    return outcome


def test_fuzzed_files_never_raise_internal_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: dict[str, int] = {}
    failures: list[str] = []
    rss_before = peak_rss_mb()
    for case, text in fuzz_cases():
        try:
            with time_cap(CASE_SECONDS):
                outcome = run_case(text, tmp_path, case % CLI_EVERY == 0, main)
        except (Exception, CaseTimeout) as err:
            failures.append(f"case {case}: {type(err).__name__}: {str(err)[:200]}")
            continue
        if case % CLI_EVERY == 0:
            err_text = capsys.readouterr().err
            if "internal error" in err_text or "Traceback" in err_text:
                failures.append(f"case {case}: the CLI said {err_text[:300]!r}")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert not failures, "\n".join(failures[:20])
    # The mutations reach every stage: some files load, some validate, most are refused.
    assert outcomes.get("refused", 0) > CASES // 3, outcomes
    assert outcomes.get("valid", 0) > 20 and outcomes.get("invalid", 0) > 20, outcomes
    assert peak_rss_mb() - rss_before < 1024
