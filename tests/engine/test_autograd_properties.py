"""Property tests: broadcasting binary ops have correct gradients for any compatible shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Tensor, gradcheck
from tests.property_budget import examples


@st.composite
def broadcastable_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that NumPy broadcasts together (size-1 dims and missing leading dims)."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    a = tuple(n if draw(st.booleans()) else 1 for n in full)
    b = tuple(n if draw(st.booleans()) else 1 for n in full)
    return a[draw(st.integers(0, len(a))) :], b[draw(st.integers(0, len(b))) :]


OPS = {
    "add": lambda p, q: p + q,
    "sub": lambda p, q: p - q,
    "mul": lambda p, q: p * q,
    "div": lambda p, q: p / q,
}


@pytest.mark.parametrize("op", sorted(OPS))
@settings(max_examples=examples(15), deadline=None)
@given(shapes=broadcastable_shapes(), seed=st.integers(0, 2**16))
def test_broadcast_gradients(op: str, shapes: tuple[tuple[int, ...], ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal(shapes[0]), autograd=True, dtype=np.float64)
    b = Tensor(rng.uniform(0.5, 2.0, shapes[1]), autograd=True, dtype=np.float64)
    assert gradcheck(OPS[op], [a, b])
    out = OPS[op](a, b)
    assert out.shape == np.broadcast_shapes(shapes[0], shapes[1])
