"""A subgroup's curves as row indices into the whole pool's matrix, gathered one block at a time.

Why: ``PoolingData.subset`` copied each subgroup's rows (118 MB for the 75 % "oral" level of 100,000 trials),
which set the peak memory of ``magtrial pool``. The pooling code only ever reads row blocks
(``lik[a:b]``), the shape, the dtype, a column window (``lik[:, lo:hi]``) and the column maxima, so this
class gives exactly those, and the rows are copied only a block (1,024-4,096 rows) at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_BLOCK = 8192


class RowSubset:
    """``base[rows][:, lo:hi]`` without the copy."""

    ndim = 2

    def __init__(
        self, base: np.ndarray, rows: np.ndarray, lo: int = 0, hi: int | None = None, top: np.ndarray | None = None
    ) -> None:
        self.base = base
        self.rows = np.asarray(rows, dtype=np.intp)
        self.lo, self.hi = lo, base.shape[1] if hi is None else hi
        self.top = top  # column maxima of ``base`` (all rows), if known

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.rows.size), self.hi - self.lo)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.base.dtype

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):  # a block of rows: gathered now (whole rows, then the window: 2x faster)
            block = np.take(self.base, self.rows[key], axis=0)
            return block if self.lo == 0 and self.hi == self.base.shape[1] else block[:, self.lo : self.hi]
        if isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None) and isinstance(key[1], slice):
            start, stop, step = key[1].indices(self.hi - self.lo)
            if step != 1:
                raise IndexError("only contiguous column windows")
            return RowSubset(self.base, self.rows, self.lo + start, self.lo + max(start, stop), self.top)
        raise IndexError(f"RowSubset supports row blocks and column windows, not {key!r}")

    def take(self, rows: np.ndarray) -> RowSubset:
        return RowSubset(self.base, self.rows[rows], self.lo, self.hi, self.top)

    def max(self, axis: int) -> np.ndarray:
        """Column maxima; with ``top`` those of all of ``base``'s rows, an upper bound read without a pass.

        ``pool_data`` uses them only to drop grid columns where every curve is below 1e-14 of its peak, so a
        bound keeps at most a few such columns more: their products add below 1e-14 of the row's peak.
        """
        if axis != 0:
            raise ValueError("column maxima only")
        if self.top is not None:
            return np.asarray(self.top[self.lo : self.hi])
        out = np.full(self.hi - self.lo, -np.inf, dtype=self.dtype)
        for a in range(0, self.rows.size, _BLOCK):
            np.maximum(out, self[a : a + _BLOCK].max(axis=0), out=out)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.base[self.rows, self.lo : self.hi], dtype=dtype)


def subset_rows(lik: np.ndarray | RowSubset, rows: np.ndarray, top: np.ndarray | None = None) -> RowSubset:
    """Rows ``rows`` of ``lik`` as a view that copies only when read (``top``: see ``RowSubset.max``)."""
    return lik.take(rows) if isinstance(lik, RowSubset) else RowSubset(lik, rows, top=top)
