"""Information measures with standard errors: entropy, total correlation, mutual
information, KL divergence."""

from __future__ import annotations

from typing import Any, Optional, Union

from . import _rbig
from ._input import as_matrix
from .exceptions import ParameterError

Estimate = _rbig.Estimate


def _options(rotation: str, max_layers: Optional[int], knots: Union[str, int], random_state: Optional[int], units: str) -> dict:
    return dict(rotation=rotation, max_layers=_count("max_layers", max_layers), knots=_knots(knots),
                seed=_seed(random_state), units=units)


def _count(name: str, value: Any, optional: bool = True) -> Optional[int]:
    """A non-negative integer parameter (None allowed when ``optional``), as Python's
    int, checked here so that a bad value is a ParameterError naming it."""
    import numpy as np

    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**63:
        raise ParameterError(f"invalid parameter `{name}`: expected a non-negative integer, got {value!r}")
    return int(value)


def _knots(knots: Any) -> Union[str, int]:
    if isinstance(knots, str):
        return knots
    return _count("knots", knots, optional=False)


def _seed(random_state: Any) -> int:
    """A fit's seed: 0 for None (fits are reproducible by default), the integer given,
    or one integer drawn from a numpy generator."""
    import numpy as np

    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy random generator, got {random_state!r}")


def entropy(X: Any, *, rotation: str = "ica", max_layers: Optional[int] = None, knots: Union[str, int] = "auto",
            random_state: Optional[int] = None, units: str = "nats") -> Estimate:
    """Joint differential entropy of the columns of ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples in rows; a 1-D array is one column.
    rotation : {"ica", "pca", "random"}, default="ica"
        Rotation of the models behind the estimate (``ica`` is the accurate default of
        the command-line tool's estimators).
    max_layers : int, optional
        Upper bound on the number of layers (default: the library's, 1000).
    knots : {"auto", "smooth"} or int, default="auto"
        Knot rule of the marginal maps.
    random_state : int, optional
        Seed of the random parts (0 when None: the same data give the same estimate).
    units : {"nats", "bits"}, default="nats"

    Returns
    -------
    Estimate
        ``value``, ``standard_error`` (same units), ``units``, ``method`` (``"models"``, or
        ``"nearest_neighbours"`` for a mutual information whose models broke down or,
        in six columns or fewer, missed what the KSG estimate sees),
        ``layers``, ``reductions``.

    Examples
    --------
    >>> import numpy as np, rbig
    >>> x = np.random.default_rng(0).normal(size=(5000, 2))
    >>> h = rbig.entropy(x)
    >>> bool(abs(h.value - np.log(2 * np.pi * np.e)) < 3 * h.standard_error + 0.02)
    True
    """
    x, _ = as_matrix(X, "X", allow_1d=True)
    return _rbig.entropy(x, **_options(rotation, max_layers, knots, random_state, units))


def total_correlation(X: Any, *, rotation: str = "ica", max_layers: Optional[int] = None, knots: Union[str, int] = "auto",
                      random_state: Optional[int] = None, units: str = "nats") -> Estimate:
    """Total correlation (multi-information) of the columns of ``X``: the sum of the
    marginal entropies minus the joint entropy; zero iff the columns are independent.
    Unchanged, up to noise, by a strictly increasing map of any column.

    Parameters are those of :func:`entropy`.

    Examples
    --------
    >>> import numpy as np, rbig
    >>> rho = 0.8
    >>> x = np.random.default_rng(0).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=5000)
    >>> tc = rbig.total_correlation(x)
    >>> bool(abs(tc.value - (-0.5 * np.log(1 - rho**2))) < 3 * tc.standard_error + 0.02)
    True
    """
    x, _ = as_matrix(X, "X", allow_1d=True)
    return _rbig.total_correlation(x, **_options(rotation, max_layers, knots, random_state, units))


def mutual_information(X: Any, Y: Any, *, rotation: str = "ica", max_layers: Optional[int] = None,
                       knots: Union[str, int] = "auto", random_state: Optional[int] = None,
                       units: str = "nats") -> Estimate:
    """Mutual information between the column blocks ``X`` and ``Y`` (same rows, any
    widths; a 1-D array is one column).

    Parameters are those of :func:`entropy`.

    Examples
    --------
    >>> import numpy as np, rbig
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=5000)
    >>> y = 0.75 * x + np.sqrt(1 - 0.75**2) * rng.normal(size=5000)
    >>> mi = rbig.mutual_information(x, y, units="bits")
    >>> bool(abs(mi.value - (-0.5 * np.log2(1 - 0.75**2))) < 3 * mi.standard_error + 0.03)
    True
    """
    x, _ = as_matrix(X, "X", allow_1d=True)
    y, _ = as_matrix(Y, "Y", allow_1d=True)
    return _rbig.mutual_information(x, y, **_options(rotation, max_layers, knots, random_state, units))


def kl_divergence(P: Any, Q: Any, *, rotation: str = "ica", max_layers: Optional[int] = None,
                  knots: Union[str, int] = "auto", random_state: Optional[int] = None,
                  units: str = "nats") -> Estimate:
    """Kullback-Leibler divergence D(P || Q) from samples ``P`` and ``Q`` (same columns;
    the row counts may differ). Not clipped at zero: for P = Q it scatters around 0
    within its standard error.

    Parameters are those of :func:`entropy`.

    Examples
    --------
    >>> import numpy as np, rbig
    >>> rng = np.random.default_rng(0)
    >>> p = rng.normal(0.0, 1.0, size=(5000, 1))
    >>> q = rng.normal(1.0, 1.0, size=(5000, 1))
    >>> d = rbig.kl_divergence(p, q)       # truth: 0.5 nats
    >>> bool(abs(d.value - 0.5) < 3 * d.standard_error + 0.05)
    True
    """
    p, _ = as_matrix(P, "P", allow_1d=True)
    q, _ = as_matrix(Q, "Q", allow_1d=True)
    return _rbig.kl_divergence(p, q, **_options(rotation, max_layers, knots, random_state, units))
