"""Coercion of user input (numpy arrays, pandas frames, array-likes) to float64 matrices."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from .exceptions import DataError


def feature_names(X: Any) -> Optional[np.ndarray]:
    """Column names of a data frame whose column labels are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "iloc"):
        return None
    names = list(columns)
    if not names or not all(isinstance(n, str) for n in names):
        return None
    return np.asarray(names, dtype=object)


def as_matrix(X: Any, name: str = "X", allow_1d: bool = False) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``X`` as a 2-D float64 array (no copy when it already is one, in C or Fortran
    order) and its feature names, if it is a data frame with string column labels.

    A 1-D input is one column when ``allow_1d``; otherwise it is refused, as
    scikit-learn refuses it, with the reshape to use.
    """
    if hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required (RBIG models continuous "
            "densities): use X.toarray() to convert to a dense numpy array."
        )
    names = feature_names(X)
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    try:
        array = np.asarray(X)
    except Exception as e:  # ragged lists and the like
        raise DataError(f"{name} cannot be read as a numeric matrix: {e}") from e
    if np.iscomplexobj(array):
        raise DataError(f"Complex data not supported: {name} has dtype {array.dtype}")
    if array.dtype.kind not in "fiub":
        try:
            array = array.astype(np.float64)
        except ValueError as e:  # text cells; a TypeError (a dict in a cell) stays one
            raise DataError(f"{name} must be numeric (dtype {array.dtype}): {e}") from e
    if array.ndim == 1:
        if not allow_1d:
            raise DataError(
                f"Expected 2D array, got 1D array instead: {name} has shape {array.shape}. Reshape your "
                "data either using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise DataError(f"Expected a 2D array (rows = samples), got {array.ndim} dimensions: {name} has shape {array.shape}")
    n, d = array.shape
    if d == 0:
        raise DataError(f"Found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is required.")
    if n == 0:
        raise DataError(f"Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is required.")
    return np.asarray(array, dtype=np.float64), names
