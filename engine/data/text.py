"""Character-level text data for language modelling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.data.dataset import Dataset, DatasetError

__all__ = ["CORPORA", "DEFAULT_CORPUS", "text"]

_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "corpus"
#: The bundled corpora by name, prose written for this project: ``lighthouse`` (two stories,
#: 6.6 KB, quick to train on) and ``stories`` (those and seventeen more, 88 KB, enough text for a
#: transformer).
CORPORA = {"lighthouse": _FOLDER / "lighthouse.txt", "stories": _FOLDER / "stories.txt"}
#: The corpus used when ``text()`` gets no text and no corpus name.
DEFAULT_CORPUS = CORPORA["lighthouse"]


def _read(path: Path) -> str:
    if not path.is_file():
        raise DatasetError("file not found", path=str(path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"not UTF-8 text (byte {err.start})", path=str(path)) from None


def _is_file(name: str) -> bool:
    """Whether ``name`` names an existing file (False for a string no file can be called)."""
    try:
        return Path(name).is_file()
    except OSError:  # e.g. a name too long for the file system
        return False


def _load(source: str | Path | None, corpus: str) -> tuple[str, str]:
    """Return (text, name) for a path, a literal string or a bundled corpus."""
    if source is None:
        if corpus not in CORPORA:
            known = ", ".join(CORPORA)
            raise DatasetError(f"no bundled corpus {corpus!r}; the corpora are {known}")
        return _read(CORPORA[corpus]), corpus
    if isinstance(source, Path):
        return _read(source), source.stem
    slashed_word = " " not in source and ("/" in source or "\\" in source)
    looks_like_path = (
        "\n" not in source
        and len(source) < 4096
        and (source.endswith(".txt") or slashed_word or _is_file(source))
    )
    if looks_like_path:
        return _read(Path(source)), Path(source).stem
    return source, "text"


def text(
    path_or_str: str | Path | None = None,
    seq_len: int = 25,
    stride: int | None = None,
    corpus: str = "lighthouse",
) -> Dataset:
    """A character-level language-modelling dataset.

    The text is cut into windows of ``seq_len`` characters, one every ``stride`` characters
    (side by side by default; overlapping when ``stride < seq_len``, which gives more samples from
    a short text); the target of each position is the next character.

    Parameters
    ----------
    path_or_str : str, Path or None
        A ``.txt`` file (a ``Path``, or a one-line string that names an existing file, ends in
        ``.txt`` or is one word holding a ``/``), the text itself, or None for the bundled
        corpus named by ``corpus``.
    seq_len : int
        Characters per sample.
    stride : int or None
        Characters between the starts of two windows, 1 to ``seq_len``; None = ``seq_len``.
    corpus : str
        The bundled corpus read when ``path_or_str`` is None, a key of ``CORPORA``.

    Returns
    -------
    Dataset
        ``x`` and ``y`` int64 of shape (N, seq_len) (read-only views of the text's ids, so
        overlapping windows cost no memory), ``y[:, t] == x[:, t + 1]`` within a
        window; ``vocab`` the sorted characters; ``task='language'``; ``n_classes = len(vocab)``.
        ``encode``/``decode`` map between strings and ids. ``positions`` holds where each
        window starts in the text, so :func:`~engine.data.split` can keep the validation
        windows of overlapping ones on the text's tail.

    Raises
    ------
    DatasetError
        Missing or non-UTF-8 file, an unknown corpus, a text shorter than ``seq_len + 1``
        characters, or a ``stride`` outside 1 to ``seq_len``.

    Examples
    --------
    >>> ds = text("abcabcabcabc", seq_len=3)
    >>> ds.vocab, ds.x.shape, ds.decode(ds.x[0]), ds.decode(ds.y[0])
    (['a', 'b', 'c'], (3, 3), 'abc', 'bca')
    >>> text("abcdefg", seq_len=3, stride=1).positions
    array([0, 1, 2, 3])
    """
    if int(seq_len) < 1:
        raise DatasetError(f"seq_len must be at least 1, got {seq_len}")
    step = seq_len if stride is None else int(stride)
    if not 1 <= step <= seq_len:
        raise DatasetError(
            f"stride must be between 1 and seq_len = {seq_len}, got {stride} "
            "(a larger stride would skip characters)"
        )
    body, name = _load(path_or_str, corpus)
    if len(body) < seq_len + 1:
        raise DatasetError(
            f"text {name!r} has {len(body)} characters; at least seq_len + 1 = "
            f"{seq_len + 1} are needed"
        )
    vocab = sorted(set(body))
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = np.fromiter((index[ch] for ch in body), dtype=np.int64, count=len(body))
    count = (len(ids) - 1 - seq_len) // step + 1
    starts = np.arange(count, dtype=np.int64) * step
    # Read-only views of the text, not copies: overlapping windows (stride 1, seq_len 1000)
    # of an 88 KB text would otherwise take 1.4 GB. Batches are copied out as they are drawn.
    x = sliding_window_view(ids[:-1], seq_len)[::step]
    y = sliding_window_view(ids[1:], seq_len)[::step]
    return Dataset(x, y, name, "language", len(vocab), vocab, starts)
