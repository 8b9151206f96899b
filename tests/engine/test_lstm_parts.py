"""An LSTM's batch cut into parts that run at once (``engine/nn/lstm_steps.py``): when it is cut,
and that the outputs, the final states and every gradient equal those of the uncut batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import engine
from engine import LSTM, Embedding, Tensor
from engine.kernels import panels
from engine.nn import lstm_steps
from engine.nn.lstm_embedded import EmbeddedLSTMFn


@pytest.fixture
def threads() -> Iterator[Any]:
    """``set(n)`` puts the engine on ``n`` threads (the split mode); one again afterwards."""
    yield engine.set_num_threads
    engine.set_num_threads(1)


@pytest.mark.parametrize(
    ("engine_threads", "batch", "packed", "parts"),
    [
        (1, 32, True, 1),  # the default mode: BLAS's threads, not the engine's
        (2, 32, True, 2),
        (3, 24, True, 3),
        (3, 32, True, 2),  # 32 rows do not cut in three
        (2, 15, True, 1),  # fewer than 2 x MIN_PART_ROWS rows
        (2, 17, True, 1),  # odd
        (2, 32, False, 1),  # steps on BLAS: two threads calling it at once serialise
    ],
)
def test_when_the_batch_is_cut(
    engine_threads: int,
    batch: int,
    packed: bool,
    parts: int,
    threads: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(panels, "pays", lambda: packed)
    threads(engine_threads)
    assert lstm_steps.batch_parts(np, batch) == parts


def _train_step(forward: Any, params: list[Tensor], x: Tensor) -> list[Any]:
    for p in [*params, x]:
        p.grad = None
    out = forward(x)
    out.backward(Tensor(np.sin(np.arange(out.data.size)).reshape(out.shape)))
    grads = [p.grad.data for p in params]
    return [out.data, *grads] + ([x.grad.data] if x.autograd else [])


@pytest.mark.parametrize("engine_threads", [2, 3])
@pytest.mark.parametrize("embedded", [False, True])
def test_parts_give_the_uncut_results(engine_threads: int, embedded: bool, threads: Any) -> None:
    if not panels.pays():
        pytest.skip("batch parts need the packed steps (a CPU with AVX-512)")
    rng = np.random.default_rng(11)
    batch, steps, feats, hidden = 24, 7, 32, 20
    lstm, emb = LSTM(feats, hidden), Embedding(6, feats)
    params = [*emb.get_parameters(), *lstm.get_parameters()] if embedded else lstm.get_parameters()
    for p in params:  # float64: equal to rounding in the order of the sums, tightly
        p.data = p.data.astype(np.float64)
    if embedded:
        x = Tensor(rng.integers(-6, 6, (batch, steps)))  # negative ids wrap
        forward: Any = lambda ids: lstm(emb(ids))  # noqa: E731
        assert type(forward(x)._fn) is EmbeddedLSTMFn
    else:
        x = Tensor(rng.standard_normal((batch, steps, feats)), autograd=True)
        forward = lstm
    whole = _train_step(forward, params, x)
    threads(engine_threads)
    assert lstm_steps.batch_parts(np, batch) == engine_threads
    cut = _train_step(forward, params, x)
    for a, b in zip(cut, whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_parts_carry_a_given_state(threads: Any) -> None:
    if not panels.pays():
        pytest.skip("batch parts need the packed steps (a CPU with AVX-512)")
    rng = np.random.default_rng(12)
    lstm = LSTM(5, 9)
    for p in lstm.get_parameters():
        p.data = p.data.astype(np.float64)
    x = rng.standard_normal((16, 4, 5))
    state = (rng.standard_normal((16, 9)), rng.standard_normal((16, 9)))
    whole, (h, c) = lstm.run(x, state)
    threads(2)
    cut, (h2, c2) = lstm.run(x, state)
    for a, b in ((cut, whole), (h2, h), (c2, c)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, whole[:, -1], rtol=0, atol=0)


@pytest.mark.parametrize("embedded", [False, True])
def test_the_output_is_an_array_of_its_own(embedded: bool) -> None:
    """Writing into the output must not change what backward reads (the states it keeps)."""
    rng = np.random.default_rng(13)
    lstm, emb = LSTM(32, 6), Embedding(4, 32)
    x: Any = (
        emb(Tensor(rng.integers(0, 4, (16, 3))))
        if embedded
        else Tensor(rng.standard_normal((2, 3, 32)))
    )
    out = lstm(x)
    assert out.data.flags.c_contiguous
    kept = [v for v in vars(out._fn).values() if isinstance(v, np.ndarray)]
    assert kept and not any(np.shares_memory(out.data, v) for v in kept)


def test_batches_smaller_than_a_tile_step_on_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(panels, "pays", lambda: True)
    assert not lstm_steps.packed_steps(np, panels.ROWS - 1)
    assert lstm_steps.packed_steps(np, panels.ROWS)
    monkeypatch.setattr(panels, "pays", lambda: False)
    assert not lstm_steps.packed_steps(np, 32)


def _float64(*shapes: tuple[int, ...]) -> list[Tensor]:
    rng = np.random.default_rng(sum(map(sum, shapes)))
    return [Tensor(rng.normal(size=shape), autograd=True, dtype=np.float64) for shape in shapes]


@pytest.mark.parametrize(("engine_threads", "batch"), [(1, 5), (2, 16)])
def test_the_packed_steps_against_finite_differences(
    engine_threads: int, batch: int, threads: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sequence kernels (one part of 5 rows: a full tile and an overlapping one; two parts
    of 8 in the split mode), float64, with and without a given initial state."""
    from engine import gradcheck
    from engine.nn.sequence import LSTMSequenceFn

    monkeypatch.setattr(panels, "pays", lambda: True)
    threads(engine_threads)
    steps, feats, hidden = 4, 3, 5
    tensors = _float64(
        (batch, steps, feats), (feats, 4 * hidden), (4 * hidden,), (hidden, 4 * hidden)
    )
    assert lstm_steps.packed_steps(np, batch // engine_threads)
    assert lstm_steps.batch_parts(np, batch) == engine_threads
    assert gradcheck(lambda *ts: LSTMSequenceFn.apply(*ts), tensors, atol=1e-6)
    h0, c0 = np.random.default_rng(5).normal(size=(2, batch, hidden))
    assert gradcheck(lambda *ts: LSTMSequenceFn.apply(*ts, h0=h0, c0=c0), tensors, atol=1e-6)


@pytest.mark.parametrize("steps", [1, 4])
def test_the_folded_packed_steps_against_finite_differences(
    steps: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One step too: w_hh's gradient leaves out the first step (its state is zero), so a
    single step's is an empty sum, zeros."""
    from engine import gradcheck

    monkeypatch.setattr(panels, "pays", lambda: True)
    vocab, feats, hidden, batch = 5, 32, 5, 6
    tensors = _float64((vocab, feats), (feats, 4 * hidden), (4 * hidden,), (hidden, 4 * hidden))
    tokens = np.random.default_rng(6).integers(-vocab, vocab, (batch, steps))
    assert lstm_steps.packed_steps(np, batch)
    assert gradcheck(lambda *ts: EmbeddedLSTMFn.apply(*ts, ids=tokens), tensors, atol=1e-6)
