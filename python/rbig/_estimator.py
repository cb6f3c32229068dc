"""``rbig.RBIG``: the scikit-learn-style estimator."""

from __future__ import annotations

import inspect
import os
import warnings
from typing import Any, Optional, Union

import numpy as np

from . import _rbig
from ._information import _count, _knots, _seed
from ._input import as_matrix
from .exceptions import DataError, ParameterError

try:  # scikit-learn is optional: with it, RBIG is a full scikit-learn estimator.
    from sklearn.base import BaseEstimator as _BaseEstimator
    from sklearn.base import ClassNamePrefixFeaturesOutMixin, DensityMixin, TransformerMixin

    _BASES: tuple = (ClassNamePrefixFeaturesOutMixin, TransformerMixin, DensityMixin, _BaseEstimator)
except ImportError:  # tests/test_without_sklearn.py

    class _MinimalEstimator:
        """get_params/set_params as scikit-learn defines them, for use without it."""

        @classmethod
        def _get_param_names(cls):
            signature = inspect.signature(cls.__init__)
            return sorted(p.name for p in signature.parameters.values() if p.name != "self")

        def get_params(self, deep: bool = True) -> dict:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}")
                setattr(self, key, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

        def fit_transform(self, X, y=None):
            return self.fit(X, y).transform(X)

    _BASES = (_MinimalEstimator,)


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit`` (scikit-learn's own class when installed)."""


try:
    from sklearn.exceptions import NotFittedError  # noqa: F811
except ImportError:  # pragma: no cover
    pass


class RBIG(*_BASES):
    """Rotation-Based Iterative Gaussianization: a density model and transformer.

    A stack of layers, each a per-column Gaussianization (a smooth, strictly increasing
    spline map) followed by a rotation, that turns the data into standard normal
    samples. The transform is exactly invertible, so the model gives exact
    log-densities and draws new samples.

    Parameters
    ----------
    rotation : {"pca", "random", "ica"}, default="pca"
        Rotation of each layer.
    max_layers : int, optional
        Upper bound on the number of layers (default: the library's, 1000). Layers are
        added while they remove significant total correlation.
    knots : {"auto", "smooth"} or int, default="auto"
        Knot rule of the marginal maps (``smooth`` suits density estimation on smooth
        data).
    random_state : int, numpy generator or None, default=None
        Seed of the random rotations and tie-breaking; None means seed 0, so the same
        data give the same model.
    density : bool, default=False
        Choose the rotation, knots, whitening and depth for density estimation on a
        fifth of the rows held out (the command-line tool's ``fit --density``): six
        fits and the refit. ``rotation``, ``knots``, ``whiten`` and ``mixture`` are then
        ignored.
    whiten : bool or "auto", default="auto"
        Start with an exact affine whitening (the data's mean and covariance, floored
        at 1e-6 of each variance), after which columns that look Gaussian get affine
        maps, so that the model starts where one Gaussian ends. ``"auto"`` fits both
        starts and keeps the one expected to score new rows better; a fitted (or
        loaded) estimator's ``model_.hyperparameters["whiten"]`` says which it kept.
    mixture : None, "bic" or int, default=None
        Start with the Rosenblatt transform of a Gaussian mixture (full covariances,
        fitted by EM; ``"bic"`` lets BIC choose the number of components, an int fixes
        it; ``density=True`` tries it with the size chosen on its held-out rows), the
        layers refining it: for data made of clusters. Replaces the whitening (it needs
        ``whiten`` "auto" or False). ``model_.hyperparameters["mixture"]`` gives the
        number of components fitted.

    Attributes
    ----------
    model_ : rbig._rbig.Model
        The fitted model.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` was a data frame with string column names.
    n_layers_ : int
        Rotating layers kept.
    total_correlation_ : float
        Total correlation removed by the model (nats).
    layer_reductions_ : ndarray of shape (n_layers_,)
        Total correlation removed by each layer (nats, noise-corrected).
    held_out_log_likelihood_ : float or None
        With ``density=True``: the chosen configuration's mean held-out log-likelihood.

    Examples
    --------
    >>> import numpy as np
    >>> from rbig import RBIG
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-2, 2, 2000)
    >>> X = np.column_stack([t, t**2 + 0.3 * rng.normal(size=2000)])
    >>> model = RBIG().fit(X)
    >>> Z = model.transform(X)
    >>> bool(np.allclose(model.inverse_transform(Z), X))
    True
    >>> model.score_samples(X[:3]).shape
    (3,)
    >>> model.sample(5, random_state=1).shape
    (5, 2)
    """

    def __init__(self, rotation: str = "pca", max_layers: Optional[int] = None, knots: Union[str, int] = "auto",
                 random_state: Any = None, density: bool = False, whiten: Union[bool, str] = "auto",
                 mixture: Union[None, str, int] = None):
        self.rotation = rotation
        self.max_layers = max_layers
        self.knots = knots
        self.random_state = random_state
        self.density = density
        self.whiten = whiten
        self.mixture = mixture

    # -- fitting -----------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> "RBIG":
        """Fit the model to ``X`` (rows = samples); ``y`` is ignored.

        Ctrl-C stops the fit within a layer and raises ``KeyboardInterrupt``; the GIL is
        released meanwhile.

        Returns
        -------
        self : RBIG
        """
        x, names = as_matrix(X, "X")
        n, d = x.shape
        if n <= d:
            # The library's own message, with the sample count as scikit-learn words it.
            raise DataError(f"need at least {d + 1} rows (samples) to fit {d} column(s), got n_samples = {n}")
        model = _rbig.Model.fit(x, rotation=self.rotation, max_layers=_count("max_layers", self.max_layers),
                                knots=_knots(self.knots), seed=_seed(self.random_state), density=bool(self.density),
                                names=_storable(names), whiten=_whiten(self.whiten),
                                mixture=_mixture(self.mixture))
        self._set_fitted(model, names)
        return self

    def _set_fitted(self, model: "_rbig.Model", names: Optional[np.ndarray]) -> None:
        self.model_ = model
        self.n_features_in_ = model.dim
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_layers_ = model.n_layers
        self.total_correlation_ = model.total_correlation
        self.layer_reductions_ = np.array([layer[0] for layer in model.layers], dtype=np.float64)
        self.held_out_log_likelihood_ = model.held_out_log_likelihood

    # -- using the model ---------------------------------------------------------------

    def _model(self) -> "_rbig.Model":
        model = getattr(self, "model_", None)
        if model is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator."
            )
        return model

    def _check_input(self, X: Any, name: str = "X") -> np.ndarray:
        model = self._model()
        _check_feature_names(self, X)
        x, _ = as_matrix(X, name)
        if x.shape[1] != model.dim:
            raise ValueError(
                f"{name} has {x.shape[1]} features, but {type(self).__name__} is expecting "
                f"{model.dim} features as input."
            )
        return x

    def transform(self, X: Any) -> np.ndarray:
        """Map rows of ``X`` to (approximately) standard normal rows.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features)
        """
        return self._model().transform(self._check_input(X))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """The exact inverse of :meth:`transform` (Gaussian rows back to data space)."""
        model = self._model()
        z, _ = as_matrix(X, "X")
        if z.shape[1] != model.dim:
            raise ValueError(
                f"X has {z.shape[1]} features, but {type(self).__name__} is expecting {model.dim} features as input."
            )
        return model.inverse_transform(z)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density of each row of ``X`` (nats); ``-inf`` far outside the data.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
        """
        return self._model().log_density(self._check_input(X))

    def tail_probability(self, X: Any) -> np.ndarray:
        """For each row of ``X``, the fraction of the training rows whose log-density is
        lower: small for anomalies, uniform on fresh rows like the training data (what
        ``rbig score --tail`` writes). Rows below ``score_quantile(rate)`` are the
        anomalies at that rate.

        Examples
        --------
        >>> import numpy as np
        >>> from rbig import RBIG
        >>> rng = np.random.default_rng(0)
        >>> model = RBIG().fit(rng.normal(size=(20_000, 2)))
        >>> tails = model.tail_probability(rng.normal(size=(20_000, 2)))
        >>> bool(abs(np.mean(tails < 0.01) - 0.01) < 0.003)
        True
        """
        tails = self._model().tail_probability(self.score_samples(X))
        if tails is None:
            raise NotFittedError("the model stores no training scores (a file of format 4 or older): refit it")
        return tails

    def score_quantile(self, rate: float) -> float:
        """The log-density below which a fraction ``rate`` of the training rows score:
        the anomaly threshold at that rate."""
        q = self._model().score_quantile(float(rate))
        if q is None:
            raise ValueError(f"rate must lie in [0, 1] and the model must store training scores, got {rate!r}")
        return q

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of ``X`` (nats per row): the model-selection score."""
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """Draw ``n_samples`` rows from the model.

        ``random_state`` None draws a fresh seed from numpy's global generator; an int
        gives the same draws as ``rbig sample --seed`` on the same model.
        """
        model = self._model()
        n_samples = _count("n_samples", n_samples, optional=False)
        if random_state is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        else:
            seed = _seed(random_state)
        return model.sample(n_samples, seed)

    # -- files -------------------------------------------------------------------------

    def save(self, path: Union[str, os.PathLike], overwrite: bool = False) -> None:
        """Write the model file ``path`` (the format of ``rbig fit -o``). An existing
        file is kept, with :class:`rbig.ModelExistsError`, unless ``overwrite``."""
        self._model().save(os.fspath(path), overwrite=overwrite)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "RBIG":
        """Read a model file (written by :meth:`save` or by ``rbig fit``) as a fitted
        estimator whose parameters are those the model was fitted with."""
        model = _rbig.Model.load(os.fspath(path))
        return cls._from_model(model)

    @classmethod
    def _from_model(cls, model: "_rbig.Model") -> "RBIG":
        p = model.hyperparameters
        density = p["validation_fraction"] is not None
        est = cls(rotation=p["rotation"], max_layers=p["max_layers"], knots=p["knots"],
                  random_state=p["seed"], density=density, whiten=p["whiten"] and not density,
                  mixture=None if density else p["mixture"])
        names = model.column_names
        est._set_fitted(model, None if names is None else np.asarray(names, dtype=object))
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        return tags


def _storable(names: Optional[np.ndarray]) -> Optional[list]:
    """Names a model file can record (one non-blank name per column, no two alike), so
    that the tool's outputs carry them; other frames keep theirs in Python only."""
    if names is None:
        return None
    names = [str(n) for n in names]
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    return names


def _check_feature_names(est: RBIG, X: Any) -> None:
    """scikit-learn's feature-name contract: the names seen in ``fit`` must match."""
    from ._input import feature_names

    names = feature_names(X)
    fitted = getattr(est, "feature_names_in_", None)
    if fitted is None and names is None:
        return
    if names is not None and fitted is None:
        warnings.warn(f"X has feature names, but {type(est).__name__} was fitted without feature names")
        return
    if names is None and fitted is not None:
        warnings.warn(f"X does not have valid feature names, but {type(est).__name__} was fitted with feature names")
        return
    if len(names) != len(fitted) or np.any(names != fitted):
        message = "The feature names should match those that were passed during fit.\n"
        unexpected = sorted(set(names) - set(fitted))
        missing = sorted(set(fitted) - set(names))
        if unexpected:
            message += "Feature names unseen at fit time:\n" + "".join(f"- {n}\n" for n in unexpected)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + "".join(f"- {n}\n" for n in missing)
        if not unexpected and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)


def _mixture(mixture: Any) -> Union[None, str, int]:
    """``mixture`` as the binding takes it: None, "bic" or a positive number of components."""
    if mixture is None or (isinstance(mixture, str) and mixture == "bic"):
        return mixture
    if isinstance(mixture, (int, np.integer)) and not isinstance(mixture, (bool, np.bool_)) and mixture >= 1:
        return int(mixture)
    raise ParameterError(f"invalid parameter `mixture`: expected None, 'bic' or a number of components (at least 1), "
                         f"got {mixture!r}")


def _whiten(whiten: Any) -> Optional[bool]:
    """``whiten`` as the binding takes it: None for "auto"."""
    if isinstance(whiten, str) and whiten == "auto":
        return None
    if isinstance(whiten, (bool, np.bool_)):
        return bool(whiten)
    raise ParameterError(f"invalid parameter `whiten`: expected True, False or 'auto', got {whiten!r}")
