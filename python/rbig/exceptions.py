"""Exceptions raised by rbig.

Every error of the library is an :class:`RbigError`; each also derives from the
built-in exception a Python user would catch for it, so ``except ValueError`` keeps
working for bad data and parameters, ``except OSError`` for file problems.

Examples
--------
>>> import numpy as np, rbig
>>> x = np.random.default_rng(0).normal(size=(100, 2))
>>> x[7, 1] = np.nan
>>> try:
...     rbig.RBIG().fit(x)
... except ValueError as e:
...     print(type(e).__name__, e.row, e.column)
DataError 7 1
"""


class RbigError(Exception):
    """Base class of every rbig error."""


class DataError(RbigError, ValueError):
    """The data cannot be modelled as given: a NaN or infinity (``row`` and
    ``column``, zero-based, name the first such cell), too few rows, a constant or
    collinear column, a dimension that does not match the model."""

    row = None
    column = None


class ParameterError(RbigError, ValueError):
    """A parameter is out of its valid range."""


class ModelFileError(RbigError, ValueError):
    """Bytes or a file that are not a valid rbig model (foreign, corrupt, or from a
    newer format version)."""


class MemoryLimitError(RbigError, MemoryError):
    """The fit would need more memory than is available; refused before allocating."""


class RbigOSError(RbigError, OSError):
    """Reading or writing a file failed."""


class ModelExistsError(RbigError, FileExistsError):
    """The model file exists; pass ``overwrite=True`` to replace it."""


__all__ = [
    "RbigError",
    "DataError",
    "ParameterError",
    "ModelFileError",
    "MemoryLimitError",
    "RbigOSError",
    "ModelExistsError",
]
