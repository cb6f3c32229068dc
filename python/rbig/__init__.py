"""rbig: Rotation-Based Iterative Gaussianization for Python.

Exact density estimation (log-density, sampling, an invertible Gaussianizing
transform) and information measures with standard errors (entropy, total correlation,
mutual information, KL divergence), computed by the Rust library ``rbig``.

Examples
--------
>>> import numpy as np, rbig
>>> rng = np.random.default_rng(0)
>>> X = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=5000)
>>> model = rbig.RBIG().fit(X)
>>> log_p = model.score_samples(X)
>>> tc = rbig.total_correlation(X)
>>> round(tc.value, 1), tc.units
(0.5, 'nats')
"""

from ._rbig import FORMAT_VERSION, Estimate, Model, __version__
from ._estimator import RBIG, NotFittedError
from ._information import entropy, kl_divergence, mutual_information, total_correlation
from .exceptions import (
    DataError,
    MemoryLimitError,
    ModelExistsError,
    ModelFileError,
    ParameterError,
    RbigError,
    RbigOSError,
)

__all__ = [
    "RBIG",
    "Model",
    "Estimate",
    "entropy",
    "total_correlation",
    "mutual_information",
    "kl_divergence",
    "RbigError",
    "DataError",
    "ParameterError",
    "ModelFileError",
    "MemoryLimitError",
    "RbigOSError",
    "ModelExistsError",
    "NotFittedError",
    "FORMAT_VERSION",
    "__version__",
]
