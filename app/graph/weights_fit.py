"""Weights saved for an earlier version of a graph: load what still fits, name what does not.

A node removed, renamed or resized since the weights were saved must not make the whole file
useless, nor load silently: :func:`fit_weights` keeps every node whose arrays still fit, gives
the others their fresh values, and says why each one did not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.graph.compile import Program

__all__ = ["Misfit", "fit_weights"]


@dataclass(frozen=True)
class Misfit:
    """A node whose saved weights were not loaded, and why (a sentence for people)."""

    node_id: str
    message: str


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) or "a scalar"


def fit_weights(
    program: Program,
    weights: Mapping[str, np.ndarray],
    name: Callable[[str], str] | None = None,
) -> tuple[dict[str, np.ndarray], list[Misfit]]:
    """The weights to load into ``program`` and the nodes whose saved weights do not fit.

    ``name(node_id)`` gives the name messages use for a node (default: its id; a graph with
    blocks names inner nodes by their place, ``res1 › conv1``).

    Returns
    -------
    fitted : dict
        A complete state dict for ``program``: the saved arrays of every node that fits,
        the program's own (fresh) arrays for the others.
    misfits : list of Misfit
        One per node that did not fit (shape or names changed), then one per node of the file
        that the graph no longer has, in the program's order then the file's.
    """
    called = name or (lambda node_id: node_id)
    fresh = program.state_dict()
    fitted = dict(fresh)
    misfits: list[Misfit] = []
    owners = {key: key.split(".", 1)[0] for key in fresh}
    for node_id in dict.fromkeys(owners.values()):
        expected = {k: v for k, v in fresh.items() if owners[k] == node_id}
        saved = {k: v for k, v in weights.items() if k.split(".", 1)[0] == node_id}
        problem = _compare(expected, saved, called(node_id))
        if problem is None:
            fitted.update({k: np.asarray(v) for k, v in saved.items()})
        else:
            misfits.append(Misfit(node_id, problem))
    kept = set(owners.values())
    for node_id in dict.fromkeys(k.split(".", 1)[0] for k in weights):
        if node_id not in kept:
            text = f"node '{called(node_id)}' has weights in the file but is no longer in the graph"
            misfits.append(Misfit(node_id, text + " (or has no parameters); not loaded"))
    return fitted, misfits


def _compare(
    expected: Mapping[str, np.ndarray], saved: Mapping[str, np.ndarray], node_id: str
) -> str | None:
    """Why the saved arrays of node ``node_id`` do not fit the expected ones (None: they do)."""
    if not saved:
        return f"node '{node_id}' has no saved weights; it starts from fresh ones"
    missing = sorted(set(expected) - set(saved))
    extra = sorted(set(saved) - set(expected))
    if missing or extra:
        names = ", ".join(k.split(".", 1)[1] for k in missing + extra)
        return f"node '{node_id}' changed since its weights were saved ({names}); fresh weights"
    for key, array in expected.items():
        given = np.shape(saved[key])
        if given != np.shape(array):
            name = key.split(".", 1)[1]
            return (
                f"node '{node_id}': {name} is {_shape(np.shape(array))} now but "
                f"{_shape(given)} in the saved weights (units changed?); fresh weights"
            )
    return None
