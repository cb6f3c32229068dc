"""The information functions against analytic truths, their units, their inputs, and
the invariance users rely on; the package's docstring examples run as tests."""

import doctest
import importlib

import numpy as np
import pytest

import rbig


def gaussian(n, cov, seed):
    return np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, size=n)


def within(estimate, truth, slack):
    """Within three standard errors plus a small bias allowance."""
    return abs(estimate.value - truth) <= 3 * estimate.standard_error + slack


COV = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])


def test_gaussian_truths():
    x = gaussian(10_000, COV, seed=1)
    tc_truth = -0.5 * np.log(np.linalg.det(COV))  # unit variances
    h_truth = 0.5 * np.log((2 * np.pi * np.e) ** 3 * np.linalg.det(COV))
    mi_truth = 0.5 * np.log(np.linalg.det(COV[:1, :1]) * np.linalg.det(COV[1:, 1:]) / np.linalg.det(COV))
    tc, h = rbig.total_correlation(x), rbig.entropy(x)
    mi = rbig.mutual_information(x[:, 0], x[:, 1:])
    for est, truth in ((tc, tc_truth), (h, h_truth), (mi, mi_truth)):
        assert within(est, truth, 0.02), (est, truth)
        assert 0 < est.standard_error < 0.05
        assert est.method == "models" and "method='models'" in repr(est)
    # KL between N(0, I) and N(1, 2I), per column: ln sqrt2 + (1 + 1) / 4 - 1/2.
    rng = np.random.default_rng(2)
    p, q = rng.normal(size=(8000, 2)), 1 + np.sqrt(2) * rng.normal(size=(8000, 2))
    kl_truth = 2 * (0.5 * np.log(2) + 2 / 4 - 0.5)
    assert within(rbig.kl_divergence(p, q), kl_truth, 0.03)


def test_bits_are_nats_over_ln2():
    x = gaussian(3000, COV, seed=3)
    nats, bits = rbig.total_correlation(x), rbig.total_correlation(x, units="bits")
    assert bits.units == "bits"
    assert bits.value == pytest.approx(nats.value / np.log(2), rel=1e-15)
    assert bits.standard_error == pytest.approx(nats.standard_error / np.log(2), rel=1e-15)
    assert float(bits) == bits.value


def test_mi_does_not_change_under_increasing_maps_of_columns():
    rng = np.random.default_rng(4)
    x = rng.normal(size=5000)
    y = 0.75 * x + np.sqrt(1 - 0.75**2) * rng.normal(size=5000)
    truth = -0.5 * np.log(1 - 0.75**2)
    plain = rbig.mutual_information(x, y)
    mapped = rbig.mutual_information(np.exp(x), y**3)
    for est in (plain, mapped):
        assert within(est, truth, 0.03), est
    assert abs(plain.value - mapped.value) < 3 * np.hypot(plain.standard_error, mapped.standard_error)


def test_inputs_and_errors():
    pd = pytest.importorskip("pandas")
    x = gaussian(2000, COV, seed=5)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    assert rbig.total_correlation(frame).value == rbig.total_correlation(x).value
    with pytest.raises(rbig.DataError, match="row count mismatch"):
        rbig.mutual_information(x[:100], x[:99])
    with pytest.raises(rbig.DataError, match="column count mismatch"):
        rbig.kl_divergence(x, x[:, :2])
    with pytest.raises(rbig.ParameterError, match="units"):
        rbig.entropy(x, units="hartleys")
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[3, 0\]"):
        rbig.entropy(bad)


@pytest.mark.parametrize("module", ["rbig", "rbig._estimator", "rbig._information", "rbig.exceptions", "rbig.dask"])
def test_docstring_examples(module):
    if module == "rbig.dask":
        pytest.importorskip("dask")
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
