"""The scikit-learn-style estimator: the scikit-learn contract, inputs, errors, files,
pickling, the GIL and Ctrl-C."""

import pickle
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import rbig
from conftest import banana, curved, same_bits

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([rbig.RBIG()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_clone_keeps_parameters_and_drops_the_fit():
    est = rbig.RBIG(rotation="random", knots=32, random_state=5).fit(curved(500, 2, 0))
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "model_")


def test_pipeline_scores_as_the_steps_do():
    x = curved(2000, 3, seed=1)
    pipe = Pipeline([("scale", StandardScaler()), ("rbig", rbig.RBIG())]).fit(x)
    scaled = StandardScaler().fit_transform(x)
    alone = rbig.RBIG().fit(scaled)
    assert same_bits(pipe.score_samples(x), alone.score_samples(scaled))
    assert same_bits(pipe.transform(x), alone.transform(scaled))
    assert pipe.score(x) == alone.score(scaled)


def test_grid_search_over_knots_agrees_with_fit_density_on_the_banana():
    x = banana(3000, seed=11)
    chosen = rbig.RBIG(density=True).fit(x).model_.hyperparameters
    # Cross-validated held-out log-likelihood over the two knot rules, with the
    # rotation fit_density chose: the same knot rule wins.
    search = GridSearchCV(
        rbig.RBIG(rotation=chosen["rotation"]),
        {"knots": ["auto", "smooth"]},
        cv=KFold(5, shuffle=True, random_state=0),
    ).fit(x)
    assert search.best_params_["knots"] == chosen["knots"], (search.cv_results_["mean_test_score"], chosen)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))


def test_inputs_in_any_layout_and_type_give_the_same_model():
    pd = pytest.importorskip("pandas")
    x = curved(1000, 3, seed=2)
    reference = rbig.RBIG().fit(x).model_.to_bytes()
    fortran = np.asfortranarray(x)
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    for variant in (fortran, strided, x.tolist()):
        assert rbig.RBIG().fit(variant).model_.to_bytes() == reference
    # A frame's model is the same model, recording the names.
    named = rbig.Model.fit(x, names=["a", "b", "c"]).to_bytes()
    assert rbig.RBIG().fit(frame).model_.to_bytes() == named
    # float32 is widened exactly: the model of the widened data.
    x32 = x.astype(np.float32)
    assert rbig.RBIG().fit(x32).model_.to_bytes() == rbig.RBIG().fit(x32.astype(np.float64)).model_.to_bytes()
    # Names are kept, and checked on use.
    est = rbig.RBIG().fit(frame)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="feature names should match"):
        est.score_samples(frame[["b", "a", "c"]])


def test_bad_input_raises_clear_python_errors(tmp_path):
    x = curved(200, 3, seed=3)
    bad = x.copy()
    bad[17, 2] = np.nan
    with pytest.raises(rbig.DataError) as e:
        rbig.RBIG().fit(bad)
    assert (e.value.row, e.value.column) == (17, 2) and "X[17, 2]" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, rbig.RbigError)
    bad[17, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite value inf"):
        rbig.RBIG().fit(bad)
    with pytest.raises(ValueError, match="n_samples = 1"):
        rbig.RBIG().fit(x[:1])
    constant = x.copy()
    constant[:, 1] = 4.0
    with pytest.raises(rbig.DataError, match="column 2"):
        rbig.RBIG().fit(constant)
    est = rbig.RBIG().fit(x)
    with pytest.raises(ValueError, match="expecting 3 features"):
        est.score_samples(x[:, :2])
    with pytest.raises(rbig.ParameterError, match="rotation"):
        rbig.RBIG(rotation="svd").fit(x)
    with pytest.raises(rbig.ParameterError, match="knots"):
        rbig.RBIG(knots=1).fit(x)
    with pytest.raises(ValueError, match="random_state"):
        rbig.RBIG(random_state=-1).fit(x)
    # Draws beyond memory are refused before allocating (this aborted the interpreter).
    with pytest.raises(rbig.ParameterError, match="memory available"):
        est.sample(10**12)
    for bad in (-1, 2.5, True, 2**70):
        with pytest.raises(rbig.ParameterError, match="n_samples"):
            est.sample(bad)
    with pytest.raises(rbig.ParameterError, match="max_layers"):
        rbig.RBIG(max_layers=-1).fit(x)
    for bad in ("yes", 1, None):
        with pytest.raises(rbig.ParameterError, match="whiten"):
            rbig.RBIG(whiten=bad).fit(x)
    with pytest.raises(rbig.NotFittedError):
        rbig.RBIG().score_samples(x)
    # Not a model: foreign bytes, a truncated model, another program's file.
    good = est.model_.to_bytes()
    for junk in (b"", b"PK\x03\x04 not a model", good[: len(good) // 2], good[:-1] + bytes([good[-1] ^ 1])):
        with pytest.raises(rbig.ModelFileError):
            rbig.Model.from_bytes(junk)
    np.save(tmp_path / "data.npy", x)
    with pytest.raises(rbig.ModelFileError):
        rbig.RBIG.load(tmp_path / "data.npy")
    with pytest.raises(rbig.RbigOSError):
        rbig.RBIG.load(tmp_path / "missing.rbig")


def test_save_never_replaces_a_file_unasked(tmp_path):
    x = curved(500, 2, seed=4)
    first, second = rbig.RBIG().fit(x), rbig.RBIG(rotation="random").fit(x)
    path = tmp_path / "m.rbig"
    first.save(path)
    with pytest.raises(rbig.ModelExistsError):
        second.save(path)
    assert path.read_bytes() == first.model_.to_bytes()
    second.save(path, overwrite=True)
    assert path.read_bytes() == second.model_.to_bytes()


def test_pickle_round_trips_through_the_model_bytes():
    x = curved(1000, 3, seed=5)
    est = rbig.RBIG(rotation="ica").fit(x)
    back = pickle.loads(pickle.dumps(est))
    assert back.model_.to_bytes() == est.model_.to_bytes()
    assert same_bits(back.score_samples(x), est.score_samples(x))
    assert back.get_params() == est.get_params()


def test_the_gil_is_released_during_a_fit():
    x = curved(200_000, 8, seed=6)
    done = threading.Event()
    ticks = 0

    def fit():
        rbig.RBIG(rotation="random", max_layers=30).fit(x)
        done.set()

    worker = threading.Thread(target=fit)
    started = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    worker.join()
    # Holding the GIL for the whole fit would allow a handful of ticks at most (one
    # switch interval each); released, this thread ticks about every millisecond.
    assert elapsed > 0.2, elapsed
    assert ticks > 0.25 * elapsed / 0.001, (ticks, elapsed)


def test_ctrl_c_stops_a_long_fit_within_a_layer():
    script = textwrap.dedent(
        """
        import sys, numpy as np, rbig
        rng = np.random.default_rng(0)
        z = rng.normal(size=(200_000, 8))
        x = np.column_stack([np.sin(3 * z[:, 0]) + 0.2 * z[:, 1]] + [z[:, j] + 0.5 * z[:, j - 1] ** 2 for j in range(1, 8)])
        print("fitting", flush=True)
        try:
            # Long uninterrupted on 2 cores (six model fits, hundreds of layers).
            rbig.RBIG(density=True).fit(x)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(2.0)
    assert proc.poll() is None, "the fit ended before Ctrl-C: the test would prove nothing"
    sent = time.perf_counter()
    proc.send_signal(__import__("signal").SIGINT)
    out, err = proc.communicate(timeout=60)
    waited = time.perf_counter() - sent
    print(f"Ctrl-C to exit: {waited:.2f} s")
    assert proc.returncode == 3, (out, err)
    assert "interrupted" in out
    # One layer of 200,000 x 8 takes a fraction of a second on 2 cores.
    assert waited < 5.0, waited


def test_the_default_start_is_chosen_and_recorded():
    # Gaussian rows: the whitened start keeps no layer and is the maximum-likelihood
    # Gaussian; "auto" chose it and says so, and whiten=True fits the same model.
    # (A well-conditioned covariance: the whitening's floor of 1e-6 of each variance
    # moves a near-singular direction's density by more than the tolerance.)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4))
    x = rng.multivariate_normal(np.zeros(4), a @ a.T + 0.5 * np.eye(4), size=2000)
    auto = rbig.RBIG().fit(x)
    assert auto.model_.hyperparameters["whiten"] is True and auto.n_layers_ == 0
    assert auto.model_.to_bytes() == rbig.RBIG(whiten=True).fit(x).model_.to_bytes()
    mean, cov = x.mean(axis=0), np.cov(x, rowvar=False, bias=True)
    test = rng.multivariate_normal(mean, cov, size=1000)
    diff = test - mean
    gauss = -0.5 * (np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff) + np.linalg.slogdet(2 * np.pi * cov)[1])
    assert np.max(np.abs(auto.score_samples(test) - gauss)) < 1e-3


def test_a_mixture_start_fits_clustered_rows():
    # Three Gaussian clusters: BIC finds three components and the model scores fresh
    # rows as the true mixture does (up to the fit's noise).
    rng = np.random.default_rng(5)
    means = np.array([[0.0, 0.0, 0.0], [4.0, -2.0, 1.0], [-3.0, 3.0, 2.0]])
    factors = [np.eye(3), np.array([[1.0, 0, 0], [0.8, 0.5, 0], [0, 0.3, 0.7]]), 0.6 * np.eye(3)]

    def draw(n):
        k = rng.integers(0, 3, size=n)
        return means[k] + np.einsum("nij,nj->ni", np.array(factors)[k], rng.normal(size=(n, 3)))

    def truth(x):
        terms = []
        for m, f in zip(means, factors):
            cov = f @ f.T
            diff = x - m
            q = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff)
            terms.append(np.log(1 / 3) - 0.5 * (q + np.linalg.slogdet(2 * np.pi * cov)[1]))
        top = np.max(terms, axis=0)
        return top + np.log(np.sum(np.exp(np.array(terms) - top), axis=0))

    x, test = draw(3000), draw(3000)
    est = rbig.RBIG(mixture="bic").fit(x)
    assert est.model_.hyperparameters["mixture"] == 3
    gap = truth(test).mean() - est.score_samples(test).mean()
    assert -0.01 < gap < 0.05, gap
    assert np.allclose(est.inverse_transform(est.transform(test)), test, atol=1e-8)
    fixed = rbig.RBIG(mixture=3).fit(x)
    assert fixed.model_.hyperparameters["mixture"] == 3
    for bad in ("kmeans", 0, -2, 2.5, True):
        with pytest.raises(rbig.ParameterError, match="mixture"):
            rbig.RBIG(mixture=bad).fit(x)
    with pytest.raises(rbig.ParameterError, match="mixture"):
        rbig.RBIG(mixture="bic", whiten=True).fit(x)
