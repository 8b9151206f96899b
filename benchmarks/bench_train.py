"""Training-step time of the engine against hand-written NumPy and PyTorch CPU.

Run ``.venv/bin/python benchmarks/bench_train.py`` (``--steps`` and ``--workloads`` to shorten;
``BENCH_THREADS=1`` for single-threaded BLAS, steadier on a busy machine; ``ENGINE_THREADS=2``
puts the engine in its split mode, see ``engine.set_num_threads``: BLAS held to one thread, the
engine's large products and element-wise work split over two threads of its own; the hand-written
NumPy loop then also runs on one BLAS thread, so compare the engine with PyTorch there, or use
``benchmarks/bench_split_gemm.py``, which interleaves both modes in one process).
Four workloads, each a full training step (forward, loss, backward, optimizer step) in float32
on 2 threads, are timed in the same process for every implementation available. The table gives
ms per step (the best of several interleaved blocks of steps) and the ratios engine/NumPy and
engine/PyTorch; the budget is engine <= PyTorch everywhere and <= 1.3x NumPy on ``mlp_large``.

``--device gpu`` times the same steps on a GPU: the engine on CuPy, the hand-written MLP on
CuPy (the "numpy" column) and PyTorch on CUDA, each block ending with a device synchronisation.
"""

from __future__ import annotations

import os

THREADS = os.environ.get("BENCH_THREADS", "2")  # set before NumPy loads its BLAS
# the engine's threads (engine.set_num_threads; > 1 is the split mode): 1, its default, unless given
ENGINE_THREADS = int(os.environ.get("ENGINE_THREADS", "1"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402
from engine import (  # noqa: E402
    LSTM,
    SGD,
    Conv2d,
    CrossEntropyLoss,
    Embedding,
    Flatten,
    Linear,
    MaxPool2d,
    Relu,
    Sequential,
    Tensor,
    backend,
)

engine.set_num_threads(ENGINE_THREADS)

try:
    import torch

    torch.set_num_threads(int(THREADS))
except ImportError:  # the engine and NumPy columns are still reported
    torch = None

Step = Callable[[], object]
LR = 0.01

# --- workload definitions: (name, input maker, engine, numpy, torch) ------------------------


def mlp_sizes(name: str) -> tuple[int, list[int]]:
    """Batch size and layer widths of the two MLP workloads."""
    return (64, [64, 128, 10]) if name == "mlp_small" else (128, [784, 512, 512, 10])


def mlp_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    batch, sizes = mlp_sizes(name)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    return x, rng.integers(0, sizes[-1], batch)


def engine_step(model: Sequential, x: np.ndarray, y: np.ndarray, device: str) -> Step:
    """An engine training step: forward, cross-entropy, backward, SGD (which zeroes grads)."""
    model.to(device)
    crit, opt = CrossEntropyLoss(), SGD(model.get_parameters(), alpha=LR)
    xt, y = Tensor(x).to(device), backend.to_device(y, device)

    def step() -> object:
        loss = crit(model(xt), y)
        loss.backward()
        opt.step()
        return loss

    return step


def engine_mlp(name: str, device: str) -> Step:
    """The MLP in the engine: Linear-ReLU-...-Linear, CrossEntropyLoss, SGD."""
    _, sizes = mlp_sizes(name)
    layers: list = []
    for a, b in itertools.pairwise(sizes):
        layers += [Linear(a, b), Relu()]
    return engine_step(Sequential(layers[:-1]), *mlp_data(name), device)


def numpy_mlp(name: str, device: str) -> Step:
    """The same MLP written by hand in NumPy, or CuPy on the GPU (what a careful programmer
    would write)."""
    xp = backend.array_module(device)
    _, sizes = mlp_sizes(name)
    rng = np.random.default_rng(1)
    ws = [
        xp.asarray((rng.normal(size=(a, b)) * np.sqrt(2 / a)).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]
    bs = [xp.zeros(b, dtype=np.float32) for b in sizes[1:]]
    x, y = (xp.asarray(a) for a in mlp_data(name))
    n = len(y)
    rows = xp.arange(n)

    def step() -> object:
        acts = [x]
        for k, (w, b) in enumerate(zip(ws, bs, strict=True)):
            z = acts[-1] @ w + b
            acts.append(xp.maximum(z, 0) if k < len(ws) - 1 else z)
        z = acts[-1]
        e = xp.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        loss = -xp.log(p[rows, y]).mean()
        g = p
        g[rows, y] -= 1
        g /= n
        for k in range(len(ws) - 1, -1, -1):
            gw, gb = acts[k].T @ g, g.sum(0)
            if k:
                g = g @ ws[k].T
                g *= acts[k] > 0
            ws[k] -= LR * gw
            bs[k] -= LR * gb
        return loss

    return step


def torch_step(model: object, x: object, y: object, reshape: bool = False) -> Step:
    """A PyTorch training step: zero_grad, forward, cross-entropy, backward, SGD."""
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> object:
        opt.zero_grad(set_to_none=True)
        out = model(x)
        loss = (
            loss_fn(out.reshape(-1, out.shape[-1]), y.reshape(-1)) if reshape else loss_fn(out, y)
        )
        loss.backward()
        opt.step()
        return loss

    return step


def torch_device(device: str) -> str:
    return "cuda" if device == "gpu" else "cpu"


def torch_tensors(device: str, *arrays: np.ndarray) -> list[object]:
    return [torch.from_numpy(a).to(torch_device(device)) for a in arrays]


def torch_mlp(name: str, device: str) -> Step:
    _, sizes = mlp_sizes(name)
    layers: list = []
    for a, b in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(torch_device(device))
    return torch_step(model, *torch_tensors(device, *mlp_data(name)))


LSTM_B, LSTM_T, VOCAB, EMBED, HIDDEN = 32, 25, 64, 64, 256


def lstm_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (LSTM_B, LSTM_T)), rng.integers(0, VOCAB, (LSTM_B, LSTM_T))


def engine_lstm(device: str) -> Step:
    """Embedding -> LSTM -> Linear on every step, cross-entropy over (B, T)."""
    model = Sequential([Embedding(VOCAB, EMBED), LSTM(EMBED, HIDDEN), Linear(HIDDEN, VOCAB)])
    return engine_step(model, *lstm_data(), device)


def torch_lstm(device: str) -> Step:
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(VOCAB, EMBED)
            self.lstm = torch.nn.LSTM(EMBED, HIDDEN, batch_first=True)
            self.out = torch.nn.Linear(HIDDEN, VOCAB)

        def forward(self, x: object) -> object:
            return self.out(self.lstm(self.embed(x))[0])

    return torch_step(
        Net().to(torch_device(device)), *torch_tensors(device, *lstm_data()), reshape=True
    )


def conv_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((64, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 64)


def engine_conv(device: str) -> Step:
    """Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2) - Flatten - Linear(256, 10)."""
    model = Sequential(
        [Conv2d(1, 16, 3, padding=1), Relu(), MaxPool2d(2), Flatten(), Linear(256, 10)]
    )
    return engine_step(model, *conv_data(), device)


def torch_conv(device: str) -> Step:
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10)
    )
    return torch_step(model.to(torch_device(device)), *torch_tensors(device, *conv_data()))


# the book's per-time-step LSTMCell loop (benchmarks/book_lstm.py)
from benchmarks.book_lstm import engine_book_lstm, torch_book_lstm  # noqa: E402

BOOK_LSTM: dict[str, Callable[[str], Step]] = {
    "engine": lambda device: engine_book_lstm(device, LR),
    "torch": lambda device: torch_book_lstm(torch, device, LR),
}

# issue 14: a causal transformer (AdamW) and a GRU (benchmarks/bench_modern.py)
from benchmarks import bench_modern  # noqa: E402

TRANSFORMER_CHAR: dict[str, Callable[[str], Step]] = {
    "engine": bench_modern.engine_transformer,
    "torch": lambda device: bench_modern.torch_transformer(torch, device),
}
GRU_CHAR: dict[str, Callable[[str], Step]] = {
    "engine": lambda device: bench_modern.engine_gru(device, LR),
    "torch": lambda device: bench_modern.torch_gru(torch, device, LR),
}

WORKLOADS: dict[str, dict[str, Callable[[str], Step]]] = {
    "mlp_small": {
        "engine": lambda device: engine_mlp("mlp_small", device),
        "numpy": lambda device: numpy_mlp("mlp_small", device),
        "torch": lambda device: torch_mlp("mlp_small", device),
    },
    "mlp_large": {
        "engine": lambda device: engine_mlp("mlp_large", device),
        "numpy": lambda device: numpy_mlp("mlp_large", device),
        "torch": lambda device: torch_mlp("mlp_large", device),
    },
    "lstm_char": {"engine": engine_lstm, "torch": torch_lstm},
    "conv_digits": {"engine": engine_conv, "torch": torch_conv},
    "lstm_cell_book": BOOK_LSTM,
    "transformer_char": TRANSFORMER_CHAR,
    "gru_char": GRU_CHAR,
}

# --- timing -------------------------------------------------------------------------------


SETTLE_S = 0.2  # pause before each block: the previous block's worker threads go to sleep


def no_sync() -> None:
    """The CPU finishes each step before returning: nothing to wait for."""


def gpu_sync() -> None:
    """Wait until CuPy's and PyTorch's queued GPU work is done."""
    backend.array_module("gpu").cuda.Device().synchronize()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()


def time_blocks(
    steps_by_impl: dict[str, Step], steps: int, blocks: int = 7, sync: Step = no_sync
) -> dict[str, float]:
    """Best per-step time (ms) of each implementation over ``blocks`` interleaved blocks.

    The implementations take turns block by block, so a burst of load from other processes
    hits them alike; the best block of each is the one least disturbed. Before each block the
    process pauses and runs one untimed step: OpenBLAS (NumPy, the engine) and OpenMP (PyTorch)
    keep their worker threads spinning for a while after their last call, and on two cores the
    spinning pool of one implementation slowed the next one's block (on ``mlp_large`` PyTorch
    measured about 7 ms after the NumPy block against about 4 ms after a pause, and the engine
    about 15% slower after PyTorch's block). ``sync`` waits for queued device work; it is
    called before the clock starts and before it stops.
    """
    for step in steps_by_impl.values():
        for _ in range(max(2, steps // 5)):
            step()
    best = dict.fromkeys(steps_by_impl, float("inf"))
    for _ in range(blocks):
        for impl, step in steps_by_impl.items():
            time.sleep(SETTLE_S)
            step()
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            sync()
            best[impl] = min(best[impl], (time.perf_counter() - start) / steps * 1e3)
    return best


def torch_runs_on(device: str) -> bool:
    """Whether PyTorch is installed and, for the GPU, built with CUDA that sees one."""
    return torch is not None and (device == "cpu" or torch.cuda.is_available())


def run(
    names: list[str], steps: int, blocks: int = 7, device: str = "cpu"
) -> list[dict[str, float | str | None]]:
    """Time every implementation of every workload; return one row per workload."""
    rows = []
    sync = gpu_sync if device == "gpu" else no_sync
    for name in names:
        makers = {
            impl: make
            for impl, make in WORKLOADS[name].items()
            if impl != "torch" or torch_runs_on(device)
        }
        np.random.seed(0)
        impls = {impl: make(device) for impl, make in makers.items()}
        times = time_blocks(impls, steps, blocks, sync)
        row: dict[str, float | str | None] = {"workload": name}
        row.update({impl: times.get(impl) for impl in ("engine", "numpy", "torch")})
        rows.append(row)
    return rows


def ratio(a: object, b: object) -> str:
    return f"{a / b:.2f}x" if isinstance(a, float) and isinstance(b, float) else "-"


def ms(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


def print_table(rows: list[dict[str, float | str | None]]) -> None:
    """Print ms/step and the ratios as a Markdown table."""
    print("| workload | engine ms | numpy ms | torch ms | engine/numpy | engine/torch |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['workload']} | {ms(r['engine'])} | {ms(r['numpy'])} | {ms(r['torch'])} | "
            f"{ratio(r['engine'], r['numpy'])} | {ratio(r['engine'], r['torch'])} |"
        )


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=7, help="timed blocks (best is kept)")
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    args = parser.parse_args(argv)
    if args.device == "gpu":
        reason = backend.gpu_unavailable_reason()
        if reason is not None:
            parser.error(f"--device gpu: {reason}")
        global SETTLE_S
        SETTLE_S = 0.0  # no CPU thread pools to let settle
        cp = backend.array_module("gpu")
        props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        print(f"GPU {name}, CuPy {cp.__version__} (the numpy column is hand-written CuPy)")
    print(
        f"engine float32 ({engine.get_default_dtype()}), NumPy {np.__version__}, "
        f"PyTorch {torch.__version__ if torch else 'not installed'}, threads {THREADS}, "
        f"engine threads {ENGINE_THREADS}, "
        f"OPENBLAS_CORETYPE {os.environ.get('OPENBLAS_CORETYPE', 'unset (OpenBLAS detects)')}"
    )
    print_table(run(args.workloads, args.steps, args.blocks, args.device))
    return 0


if __name__ == "__main__":
    sys.exit(main())
