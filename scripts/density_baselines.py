"""Classical density baselines for `cargo bench --bench density`.

Fits, on each task's training sample, a Gaussian mixture chosen by BIC, a Gaussian
kernel density estimate with its bandwidth chosen by 5-fold cross-validation, and SINF
(sliced iterative normalizing flow, the `sinflow` package: rotations plus monotone
spline marginals, RBIG's model class, with whitening first and directions chosen by
max-sliced Wasserstein distance), and prints the mean test log-likelihood (nats per
sample) of each as JSON, with the seconds each fit took.

    cargo bench --bench density -- --export /tmp/density-tasks
    python3 -m venv /tmp/skenv && /tmp/skenv/bin/pip install scikit-learn numpy sinflow==0.1.5
    /tmp/skenv/bin/python scripts/density_baselines.py /tmp/density-tasks > benches/density_baselines.json

`--only NAME,NAME` fits those tasks alone, `--methods gmm,kde,sinf` those baselines
alone, and `--merge FILE` starts from an earlier output, keeping what is not refitted
(the MAGIC mixture takes about 16 minutes to choose by BIC).

Both estimators work on standardized data (training mean and standard deviation per
column); their log-likelihoods are moved back to the data's units by subtracting
sum(log sd). Mixtures: full covariances, 3 starts, seed 0, sizes 1, 2, ... until BIC
has not improved for 5 sizes in a row. KDE: 30 bandwidths log-spaced over [0.02, 1.5] standard deviations.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity


def standardize(train, test):
    mean, sd = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / sd, (test - mean) / sd, np.log(sd).sum()


def gmm(train, test, log_sd):
    best = None
    k = 0
    # Grow the mixture until BIC has not improved for 5 sizes in a row, so the choice
    # is never the edge of the range searched.
    while k < 80 and (best is None or k - best[1] < 5):
        k += 1
        model = GaussianMixture(k, covariance_type="full", n_init=3, random_state=0).fit(train)
        bic = model.bic(train)
        if best is None or bic < best[0]:
            best = (bic, k, model)
    _, k, model = best
    return float(model.score(test) - log_sd), k


def kde(train, test, log_sd):
    grid = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(np.log10(0.02), np.log10(1.5), 30)}, cv=5)
    grid.fit(train)
    h = grid.best_params_["bandwidth"]
    model = KernelDensity(bandwidth=h).fit(train)
    return float(model.score_samples(test).mean() - log_sd), float(h)


def sinf(train, test, log_sd):
    from sinflow import Flow

    # sinflow also draws from numpy's global generator: seed it too, or two runs differ
    # (measured: 8-gaussians -2.575 and -2.903).
    np.random.seed(0)
    model = Flow(random_state=0)
    model.fit(train)  # returns None
    return float(np.mean(model.log_prob(test)) - log_sd)


def main(root, only=None, merge=None, methods=("gmm", "kde", "sinf")):
    out = {}
    if merge:
        with open(merge) as f:
            out = json.load(f)
    for name in sorted(os.listdir(root)):
        if only and name not in only:
            continue
        train = np.load(os.path.join(root, name, "train.npy"))
        test = np.load(os.path.join(root, name, "test.npy"))
        tr, te, log_sd = standardize(train, test)
        entry = out.setdefault(name, {})
        if "gmm" in methods:
            t = time.time()
            entry["gmm"], entry["gmm_components"] = gmm(tr, te, log_sd)
            entry["gmm_seconds"] = time.time() - t
        if "kde" in methods:
            t = time.time()
            entry["kde"], entry["kde_bandwidth"] = kde(tr, te, log_sd)
            entry["kde_seconds"] = time.time() - t
        if "sinf" in methods:
            t = time.time()
            entry["sinf"] = sinf(tr, te, log_sd)
            entry["sinf_seconds"] = time.time() - t
        print(name, entry, file=sys.stderr)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    args = sys.argv[1:]
    only = args[args.index("--only") + 1].split(",") if "--only" in args else None
    merge = args[args.index("--merge") + 1] if "--merge" in args else None
    methods = args[args.index("--methods") + 1].split(",") if "--methods" in args else ("gmm", "kde", "sinf")
    main(args[0], only, merge, methods)
