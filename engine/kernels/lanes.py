"""Reductions along one row in eight lanes, for the row kernels (softmax, layer norm).

The kernels' fast-maths flags do not let LLVM reorder a floating-point sum (no ``reassoc``), so
a plain ``total += row[j]`` loop runs one addition after the other, never vectorised. These
helpers keep eight partial results, element ``j`` going to lane ``j % 8``, and combine the lanes
pairwise at the end: the compiler packs the lanes into one vector register, and the order of the
arithmetic is fixed by the code, so a row's result never depends on the rows around it (or on
the thread that computes it). Accuracy is that of NumPy's own float32 pairwise sums, which also
add in eight lanes.
"""

from __future__ import annotations

from typing import Any

from engine.kernels.compiler import helper

__all__ = ["row_dot", "row_max", "row_sum"]


@helper
def row_sum(row: Any, n: int) -> Any:
    """``row[0] + ... + row[n - 1]`` (0 when n is 0)."""
    zero = row.dtype.type(0.0)
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = zero
    n8 = n - n % 8
    for j in range(0, n8, 8):
        t0 += row[j]
        t1 += row[j + 1]
        t2 += row[j + 2]
        t3 += row[j + 3]
        t4 += row[j + 4]
        t5 += row[j + 5]
        t6 += row[j + 6]
        t7 += row[j + 7]
    for j in range(n8, n):
        t0 += row[j]
    return ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))


@helper
def row_dot(a: Any, b: Any, n: int) -> Any:
    """``a[0] b[0] + ... + a[n - 1] b[n - 1]`` (0 when n is 0)."""
    zero = a.dtype.type(0.0)
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = zero
    n8 = n - n % 8
    for j in range(0, n8, 8):
        t0 += a[j] * b[j]
        t1 += a[j + 1] * b[j + 1]
        t2 += a[j + 2] * b[j + 2]
        t3 += a[j + 3] * b[j + 3]
        t4 += a[j + 4] * b[j + 4]
        t5 += a[j + 5] * b[j + 5]
        t6 += a[j + 6] * b[j + 6]
        t7 += a[j + 7] * b[j + 7]
    for j in range(n8, n):
        t0 += a[j] * b[j]
    return ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))


@helper
def row_max(row: Any, n: int) -> Any:
    """The largest of ``row[0], ..., row[n - 1]`` (n >= 1); NaN only when ``row[0]`` is NaN (a
    NaN elsewhere is skipped: the callers' results turn NaN through it anyway)."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    n8 = n - n % 8
    for j in range(0, n8, 8):
        m0 = row[j] if row[j] > m0 else m0
        m1 = row[j + 1] if row[j + 1] > m1 else m1
        m2 = row[j + 2] if row[j + 2] > m2 else m2
        m3 = row[j + 3] if row[j + 3] > m3 else m3
        m4 = row[j + 4] if row[j + 4] > m4 else m4
        m5 = row[j + 5] if row[j + 5] > m5 else m5
        m6 = row[j + 6] if row[j + 6] > m6 else m6
        m7 = row[j + 7] if row[j + 7] > m7 else m7
    for j in range(n8, n):
        m0 = row[j] if row[j] > m0 else m0
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    m4 = m5 if m5 > m4 else m4
    m6 = m7 if m7 > m6 else m6
    m0 = m2 if m2 > m0 else m0
    m4 = m6 if m6 > m4 else m4
    return m4 if m4 > m0 else m0
