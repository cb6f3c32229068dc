"""RBIG on Dask arrays: score, transform and invert block by block, and fit on a
uniform sample of rows, for data larger than one machine's memory.

The model travels to the workers as its model-file bytes (a few hundred kilobytes at
most) and is read once per worker process; every block gives exactly what the
in-memory model gives on those rows, since each row's result depends on that row
alone. Works with Dask's local schedulers and, unchanged, on a distributed cluster.

Requires ``dask[array]`` (``pip install 'rbig[dask]'``).

Examples
--------
>>> import dask.array as da
>>> import rbig, rbig.dask
>>> X = da.random.RandomState(0).standard_normal((100_000, 3), chunks=(25_000, 3))
>>> model = rbig.dask.fit(X, sample_rows=20_000, random_state=0)
>>> log_p = rbig.dask.score_samples(model, X)     # lazy, one task per block
>>> log_p.shape, log_p.dtype
((100000,), dtype('float64'))
>>> bool(abs(log_p.mean().compute() - model.score(X[:20_000].compute())) < 0.05)
True
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Dict, Optional

import numpy as np

from . import _rbig
from ._estimator import RBIG
from ._information import _seed

try:
    import dask
    import dask.array as da
except ImportError as e:  # pragma: no cover
    raise ImportError("rbig.dask needs dask: pip install 'dask[array]'") from e

__all__ = ["fit", "sample_rows", "score_samples", "transform", "inverse_transform"]

# Models read on this process, by the digest of their bytes: each worker reads a model
# once, whatever the number of its blocks.
_MODELS: Dict[str, "_rbig.Model"] = {}
_MODELS_LOCK = threading.Lock()


def _model_from_bytes(payload: bytes) -> "_rbig.Model":
    key = hashlib.sha256(payload).hexdigest()
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _rbig.Model.from_bytes(payload)
            _MODELS[key] = model
        return model


def _payload(model: Any) -> bytes:
    if isinstance(model, RBIG):
        return model._model().to_bytes()
    if isinstance(model, _rbig.Model):
        return model.to_bytes()
    raise TypeError(f"expected a fitted rbig.RBIG or rbig.Model, got {type(model).__name__}")


def _rows(X: Any, dim: Optional[int] = None) -> "da.Array":
    """``X`` as a 2-D float64 dask array with all columns in one chunk."""
    if not isinstance(X, da.Array):
        X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D dask array (rows = samples), got {X.ndim} dimensions")
    if dim is not None and X.shape[1] != dim:
        raise ValueError(f"X has {X.shape[1]} features, but the model is expecting {dim} features as input.")
    return X.astype(np.float64).rechunk({1: -1})


def _score_block(block: np.ndarray, payload: bytes) -> np.ndarray:
    return _model_from_bytes(payload).log_density(np.asarray(block, dtype=np.float64))


def _transform_block(block: np.ndarray, payload: bytes) -> np.ndarray:
    return _model_from_bytes(payload).transform(np.asarray(block, dtype=np.float64))


def _inverse_block(block: np.ndarray, payload: bytes) -> np.ndarray:
    return _model_from_bytes(payload).inverse_transform(np.asarray(block, dtype=np.float64))


def score_samples(model: Any, X: Any) -> "da.Array":
    """Log-density (nats) of each row of the dask array ``X`` under ``model`` (a fitted
    :class:`rbig.RBIG` or :class:`rbig.Model`), as a lazy 1-D dask array."""
    payload = _payload(model)
    X = _rows(X, _model_from_bytes(payload).dim)
    return X.map_blocks(_score_block, payload, drop_axis=1, dtype=np.float64, meta=np.empty((0,), np.float64))


def transform(model: Any, X: Any) -> "da.Array":
    """``model.transform`` of each block of ``X``, as a lazy dask array."""
    payload = _payload(model)
    X = _rows(X, _model_from_bytes(payload).dim)
    return X.map_blocks(_transform_block, payload, dtype=np.float64, meta=np.empty((0, 0), np.float64))


def inverse_transform(model: Any, Z: Any) -> "da.Array":
    """``model.inverse_transform`` of each block of ``Z``, as a lazy dask array."""
    payload = _payload(model)
    Z = _rows(Z, _model_from_bytes(payload).dim)
    return Z.map_blocks(_inverse_block, payload, dtype=np.float64, meta=np.empty((0, 0), np.float64))


def _take(block: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` rows of ``block`` drawn uniformly without replacement, in block order."""
    picked = np.sort(np.random.default_rng(seed).choice(len(block), size=count, replace=False))
    return np.asarray(block[picked], dtype=np.float64)


def sample_rows(X: Any, n: int, random_state: Any = None) -> np.ndarray:
    """A uniform random sample of ``n`` distinct rows of the dask array ``X``, as a
    numpy array, drawn without materializing ``X``.

    Each block contributes a multivariate-hypergeometric share of the ``n`` rows (so
    every ``n``-subset of rows is equally likely), drawn on the worker that holds the
    block. The client holds only the sample: with a distributed client each block's
    rows are copied into the result as they arrive; with a local scheduler the blocks
    are computed one after another. The same ``random_state`` and chunking give the
    same rows.
    """
    X = _rows(X)
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    sizes = np.asarray(X.chunks[0], dtype=np.int64)
    total = int(sizes.sum())
    n = int(n)
    if not 0 < n <= total:
        raise ValueError(f"sample_rows must lie between 1 and the {total} rows of X, got {n}")
    rng = np.random.default_rng(_seed(random_state))
    counts = rng.multivariate_hypergeometric(sizes, n)
    seeds = rng.integers(0, 2**63 - 1, size=len(sizes))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    out = np.empty((n, X.shape[1]), dtype=np.float64)
    blocks = X.to_delayed().ravel()
    parts = [
        (i, dask.delayed(_take)(blocks[i], int(counts[i]), int(seeds[i])))
        for i in range(len(sizes))
        if counts[i] > 0
    ]
    client = _distributed_client()
    if client is None:
        for i, part in parts:
            out[offsets[i] : offsets[i + 1]] = part.compute()
        return out
    from distributed import as_completed

    futures = client.compute([part for _, part in parts])
    where = {f.key: i for (i, _), f in zip(parts, futures)}
    for future in as_completed(futures):
        i = where[future.key]
        out[offsets[i] : offsets[i + 1]] = future.result()
        future.release()
    return out


_draw_rows = sample_rows  # `fit` takes a parameter of the same name


def _distributed_client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def fit(X: Any, *, sample_rows: int, random_state: Any = None, **params: Any) -> RBIG:
    """Fit :class:`rbig.RBIG` (with ``params``) on a uniform random sample of
    ``sample_rows`` rows of the dask array ``X`` (see :func:`sample_rows`).

    ``random_state`` seeds both the sample and the fit.
    """
    rows = _draw_rows(X, sample_rows, random_state=random_state)
    return RBIG(random_state=random_state, **params).fit(rows)
