"""Without scikit-learn installed, RBIG is still an estimator with its parameter API."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["sklearn"] = None  # any `import sklearn...` now raises ImportError
    import numpy as np, rbig
    est = rbig.RBIG(knots=32)
    assert est.get_params() == {"density": False, "knots": 32, "max_layers": None, "mixture": None,
                                "random_state": None, "rotation": "pca", "whiten": "auto"}, est.get_params()
    assert est.set_params(rotation="random") is est and est.rotation == "random"
    try:
        est.set_params(depth=3)
        raise SystemExit("set_params accepted an unknown parameter")
    except ValueError as e:
        assert "depth" in str(e)
    x = np.random.default_rng(0).normal(size=(500, 2))
    z = est.fit_transform(x)
    assert np.array_equal(z, rbig.RBIG(knots=32, rotation="random").fit(x).transform(x))
    try:
        rbig.RBIG().transform(x)
        raise SystemExit("transform before fit")
    except rbig.NotFittedError:
        pass
    print(repr(est))
    """
)


def test_the_estimator_works_without_scikit_learn():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "RBIG(density=False, knots=32, max_layers=None, mixture=None, random_state=None, rotation='random', "
        "whiten='auto')"
    )
