"""Element-wise work split over threads (engine/ops/parallel.py): the blocks cover the work once,
errors come back, one thread runs inline, and every op that splits gives the same bits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import engine
from engine import AdamW, Tensor
from engine.ops import gemm, parallel
from engine.ops.attention import Attention
from engine.ops.layer_norm import LayerNormFn
from engine.ops.loss_ops import CrossEntropy
from engine.ops.modern import Gelu


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    before = parallel.get_num_threads()
    yield
    parallel.set_num_threads(before)


def test_default_is_inline_and_setting_is_checked() -> None:
    assert engine.get_num_threads() >= 1
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            engine.set_num_threads(bad)  # type: ignore[arg-type]


def test_blocks_cover_every_row_once_on_two_threads() -> None:
    parallel.set_num_threads(2)
    seen: list[tuple[int, int]] = []
    names: set[str] = set()

    def body(lo: int, hi: int) -> None:
        seen.append((lo, hi))
        names.add(threading.current_thread().name)
        time.sleep(0.01)  # leaves the other block to the pool's thread

    parallel.for_rows(body, 1001, parallel.MIN_ELEMENTS)
    assert sorted(seen) == [(0, 500), (500, 1001)]
    assert len(names) == 2
    seen.clear()
    parallel.for_rows(lambda lo, hi: seen.append((lo, hi)), 1001, 5 * parallel.BLOCK_ELEMENTS)
    assert sorted(seen) == [(0, 200), (200, 400), (400, 600), (600, 800), (800, 1001)]


@pytest.mark.parametrize(("threads", "elements"), [(1, 10**9), (2, parallel.MIN_ELEMENTS - 1)])
def test_one_thread_or_small_work_runs_inline(threads: int, elements: int) -> None:
    parallel.set_num_threads(threads)
    calls: list[tuple[int, int, str]] = []
    parallel.for_rows(
        lambda lo, hi: calls.append((lo, hi, threading.current_thread().name)), 64, elements
    )
    assert calls == [(0, 64, threading.current_thread().name)]
    assert not parallel.splits(elements)


def test_an_idle_worker_keeps_nothing_of_the_last_job_alive() -> None:
    """A finished job's body (and the arrays it holds) is freed once the call returns."""
    import weakref

    class Body:
        def __call__(self, part: int) -> None:
            time.sleep(0.01)

    parallel.set_num_threads(2)
    body = Body()
    freed = weakref.ref(body)
    parallel.for_parts(body, 4)
    del body
    deadline = time.monotonic() + 5
    while freed() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert freed() is None


def test_an_error_in_a_block_is_raised_after_all_blocks() -> None:
    parallel.set_num_threads(2)
    done: list[int] = []

    def body(part: int) -> None:
        if part == 1:
            raise ZeroDivisionError("block 1")
        done.append(part)

    with pytest.raises(ZeroDivisionError, match="block 1"):
        parallel.for_parts(body, 3)
    assert sorted(done) == [0, 2]


def test_a_split_inside_a_block_runs_inline() -> None:
    parallel.set_num_threads(2)
    inner: list[tuple[int, int]] = []

    def outer(part: int) -> None:
        if part == 1:
            parallel.for_rows(lambda lo, hi: inner.append((lo, hi)), 10, 10**9)

    parallel.for_parts(outer, 2)
    assert inner == [(0, 10)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_workers() -> None:
    parallel.set_num_threads(2)
    parallel.for_rows(lambda lo, hi: None, 4, 10**9)  # the parent's worker exists
    assert parallel._queues
    placed = hasattr(os, "sched_getaffinity")
    parent_worker = os.sched_getaffinity(parallel._thread_ids[0]) if placed else None
    pid = os.fork()
    if pid == 0:  # the child: no inherited queue without its thread; splitting still works
        if parallel._queues:
            os._exit(1)  # a block handed to the parent's worker would never be run here
        if parallel._thread_ids:
            os._exit(3)  # placing them would move the parent's worker (ids are system-wide)
        seen: list[tuple[int, int]] = []
        parallel.for_rows(lambda lo, hi: seen.append((lo, hi)), 4, 10**9)
        os._exit(0 if sorted(seen) == [(0, 1), (1, 2), (2, 3), (3, 4)] else 2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    if placed:
        assert os.sched_getaffinity(parallel._thread_ids[0]) == parent_worker


def _both(run: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``run()`` on one thread and on two, with the same random state."""
    results = []
    for threads in (1, 2):
        parallel.set_num_threads(threads)
        np.random.seed(3)
        results.append([np.array(a) for a in run()])
    return results[0], results[1]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)  # bit for bit, not approximately


def _op(cls: type, params: dict[str, Any], inputs: list[np.ndarray], grad: np.ndarray) -> Any:
    def run() -> list[np.ndarray]:
        fn = cls(**params)
        fn.needs = [True] * len(inputs)
        out = fn.forward(*inputs)
        return [out, *(g for g in fn.backward(grad) if g is not None)]

    return run


RNG = np.random.default_rng(0)


def _normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("shape", [(512, 256), (4, 128, 256), (3, 50000)])
def test_gelu_split_gives_the_same_bits(shape: tuple[int, ...]) -> None:
    x, g = _normal(*shape), _normal(*shape)
    _same(*_both(_op(Gelu, {}, [x], g)))


@pytest.mark.parametrize("shape", [(1024, 128), (8, 128, 128), (3, 50000), (2, 9000, 8)])
def test_layer_norm_split_gives_the_same_bits(shape: tuple[int, ...]) -> None:
    x, g = _normal(*shape), _normal(*shape)
    w, b = _normal(shape[-1]), _normal(shape[-1])
    _same(*_both(_op(LayerNormFn, {"eps": 1e-5}, [x, w, b], g)))


@pytest.mark.parametrize(
    ("packed", "causal", "dropout"),
    [(True, True, 0.0), (True, False, 0.2), (False, False, 0.0), (False, True, 0.1)],
)
def test_attention_split_gives_the_same_bits(packed: bool, causal: bool, dropout: float) -> None:
    b, t, e = 8, 64, 128
    inputs = [_normal(b, t, 3 * e)] if packed else [_normal(b, t, e) for _ in range(3)]
    params = {"heads": 4, "causal": causal, "packed": packed, "dropout": dropout}
    _same(*_both(_op(Attention, params, inputs, _normal(b, t, e))))


@pytest.mark.parametrize("shape", [(4096, 64), (64, 64, 100)])
def test_cross_entropy_split_gives_the_same_bits(shape: tuple[int, ...]) -> None:
    x = _normal(*shape)
    targets = RNG.integers(0, shape[-1], shape[:-1])
    _same(*_both(_op(CrossEntropy, {"targets": targets}, [x], np.asarray(1.5, np.float32))))


def test_optimizer_step_split_gives_the_same_bits() -> None:
    shapes = [(256, 512), (512,), (512, 128), (3, 5), (128,)]

    def run() -> list[np.ndarray]:
        rng = np.random.default_rng(1)
        params = [Tensor(rng.normal(size=s).astype(np.float32), autograd=True) for s in shapes]
        opt = AdamW(params, alpha=0.01, weight_decay=0.1)
        for _ in range(3):
            for p in params:
                p.grad = Tensor(rng.normal(size=p.shape).astype(np.float32))
            opt.step()
        return [p.data for p in params] + [a for s in opt.state.values() for a in s.values()]

    _same(*_both(run))


# --- matrix products split over the engine's threads (engine/ops/gemm.py) ---------------------
# OpenBLAS's float32 kernels round differently for different shapes of product (every block of
# rows or columns of a (2048, 128) @ (128, 512) product differed in its last bits from the
# same part of the whole, and so did one BLAS thread from two), so split products are compared
# to the one-call product within a few units of rounding of |a| @ |b|, not bit for bit.


def _blas_threads() -> list[int]:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_blas_is_held_to_one_thread_and_restored() -> None:
    parallel.set_num_threads(1)
    before = _blas_threads()
    assert before and not parallel.blas_limited()
    parallel.set_num_threads(2)
    assert _blas_threads() == [1] * len(before) and parallel.blas_limited()
    parallel.set_num_threads(3)
    assert _blas_threads() == [1] * len(before)
    parallel.set_num_threads(1)
    assert _blas_threads() == before and not parallel.blas_limited()


@pytest.fixture
def parts_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The part counts of every ``for_parts`` call the products make."""
    seen: list[int] = []
    run = parallel.for_parts

    def spy(body: Any, parts: int) -> None:
        seen.append(parts)
        run(body, parts)

    monkeypatch.setattr(parallel, "for_parts", spy)
    return seen


def _close_to_rounding(split: np.ndarray, whole: np.ndarray, scale: np.ndarray) -> None:
    """``split`` within 4 float32 roundings of ``scale`` (|a| @ |b|) of ``whole``, elementwise."""
    assert split.dtype == whole.dtype and split.shape == whole.shape
    assert np.all(np.abs(split - whole) <= 4 * np.finfo(np.float32).eps * scale)


PRODUCTS = {
    "rows": ((2048, 128), (128, 512), False),
    "weight gradient, by columns": ((2048, 128), (2048, 512), True),
    "(B, T, F) folded into rows": ((32, 64, 128), (128, 384), False),
    "batched": ((16, 4, 64, 64), (16, 4, 64, 64), False),
    "tall, few columns (an LSTM step)": ((1024, 321), (321, 32), False),
}


@pytest.mark.parametrize("case", list(PRODUCTS))
def test_split_products_match_one_call(case: str, parts_seen: list[int]) -> None:
    shape_a, shape_b, transpose_a = PRODUCTS[case]
    a, b = _normal(*shape_a), _normal(*shape_b)
    if transpose_a:
        a = a.T  # a transposed view, as a weight gradient x.T @ g
    parallel.set_num_threads(1)
    whole = gemm.matmul(a, b)
    assert not parts_seen  # one thread: one call
    parallel.set_num_threads(2)
    split = gemm.matmul(a, b)
    assert parts_seen and min(parts_seen) >= 2
    assert np.array_equal(split, gemm.matmul(a, b))  # the same split every time
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    _close_to_rounding(split, whole, scale)


def test_split_product_into_a_given_view(parts_seen: list[int]) -> None:
    a, b = _normal(1024, 321), _normal(321, 32)
    parallel.set_num_threads(1)
    whole = a @ b
    parallel.set_num_threads(2)
    out = np.full((3, 1024, 32), np.nan, dtype=np.float32)
    view = out[1]
    assert gemm.matmul(a, b, out=view) is view
    assert parts_seen
    assert np.isnan(out[0]).all() and np.isnan(out[2]).all()
    _close_to_rounding(out[1], whole, np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((64, 256), (256, 256)), ((2, 64, 64), (64, 64)), ((8, 1, 64, 64), (1, 8, 64, 64))],
)
def test_small_or_broadcast_products_stay_one_call(
    shape_a: tuple[int, ...], shape_b: tuple[int, ...], parts_seen: list[int]
) -> None:
    a, b = _normal(*shape_a), _normal(*shape_b)
    parallel.set_num_threads(2)
    assert np.array_equal(gemm.matmul(a, b), a @ b)
    assert not parts_seen


def _grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None
    return np.asarray(t.grad.data)


def _linear_run(x: np.ndarray, n_out: int) -> Any:
    def run() -> list[np.ndarray]:
        np.random.seed(5)
        layer = engine.Linear(x.shape[-1], n_out)
        layer.weight.data = layer.weight.data.astype(np.float32)
        layer.bias.data = layer.bias.data.astype(np.float32)
        inp = Tensor(x, autograd=True)
        out = layer(inp)
        out.backward(Tensor(np.ones(out.shape, dtype=np.float32)))
        return [out.data, *(_grad(t) for t in (inp, layer.weight, layer.bias))]

    return run


def _all_close(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    """Equal to a few float32 roundings of the largest magnitude of each array."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(y, x, rtol=0, atol=16 * np.finfo(x.dtype).eps * np.abs(x).max())


@pytest.mark.parametrize("shape", [(2048, 128), (32, 64, 128)])
def test_linear_forward_and_gradients_split(shape: tuple[int, ...], parts_seen: list[int]) -> None:
    one, two = _both(_linear_run(_normal(*shape), 512))
    assert parts_seen  # forward, input and weight gradients all split on two threads
    _all_close(one, two)


def test_matmul_op_gradients_split(parts_seen: list[int]) -> None:
    a_data, b_data = _normal(512, 256), _normal(256, 384)

    def run() -> list[np.ndarray]:
        a, b = Tensor(a_data, autograd=True), Tensor(b_data, autograd=True)
        out = a.mm(b)
        out.backward(Tensor(np.ones((512, 384), dtype=np.float32)))
        return [out.data, _grad(a), _grad(b)]

    _all_close(*_both(run))
    assert len(parts_seen) == 3  # a @ b, g @ b.T, a.T @ g


def test_lstm_sequence_split(parts_seen: list[int]) -> None:
    x = _normal(32, 25, 64)

    def run() -> list[np.ndarray]:
        np.random.seed(7)
        layer = engine.LSTM(64, 256)
        for p in layer.get_parameters():
            p.data = p.data.astype(np.float32)
        inp = Tensor(x, autograd=True)
        out = layer(inp)
        out.backward(Tensor(np.ones(out.shape, dtype=np.float32)))
        return [out.data, _grad(inp), *(_grad(p) for p in layer.get_parameters())]

    _all_close(*_both(run))
    assert parts_seen  # every step's product and the weight gradients


@pytest.mark.parametrize("threads", [2, 3])
def test_product_blocks_are_a_multiple_of_the_threads(threads: int) -> None:
    parallel.set_num_threads(threads)
    for work in (gemm.MIN_MACS, 3 * gemm.BLOCK_MACS, 8 * gemm.BLOCK_MACS + 1):
        assert gemm._parts(work) % threads == 0  # 3 blocks on 2 threads take 2 blocks' time
        bounds = gemm._bounds(4096, work)
        assert bounds[0] == 0 and bounds[-1] == 4096 and bounds == sorted(set(bounds))
        assert all(b % gemm.ALIGN == 0 for b in bounds)


def test_fewer_threads_after_more_use_no_more_than_asked() -> None:
    """Lowering the thread count keeps the pool's extra threads out of the work."""
    parallel.set_num_threads(3)
    parallel.for_parts(lambda part: time.sleep(0.01), 3)  # two pool threads now exist
    parallel.set_num_threads(2)
    ran_on: set[int] = set()

    def part(_: int) -> None:
        ran_on.add(threading.get_ident())
        time.sleep(0.002)

    for _ in range(20):
        parallel.for_parts(part, 6)
    assert len(ran_on) <= 2
