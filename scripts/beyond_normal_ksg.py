"""KSG on the Beyond-Normal samples that `cargo bench --bench beyond_normal` exports.

Runs benchmark-mi's KSG estimator (k = 10, standardized columns) on the same rows the
bench gives RBIG, and writes the mean estimate of every task to
benches/beyond_normal_ksg.json, which the bench shows beside its own column:

    cargo bench --bench beyond_normal -- 5000 3 --export /tmp/bn
    /tmp/bmi/bin/python scripts/beyond_normal_ksg.py /tmp/bn [SEEDS]

SEEDS (default: all exported) limits the seeds used: benchmark-mi's KSG takes 10 to
60 s per estimate at n = 5000 on two cores. The JSON is rewritten after every task.

(benchmark-mi and its pins: see scripts/beyond_normal_crosscheck.py.)
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from bmi.estimators import KSGEnsembleFirstEstimator

folder = Path(sys.argv[1])
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else None
estimator = KSGEnsembleFirstEstimator(neighborhoods=(10,), n_jobs=2)
out = Path(__file__).resolve().parent.parent / "benches" / "beyond_normal_ksg.json"
estimates = defaultdict(list)
for entry in json.loads((folder / "index.json").read_text()):
    if seeds is not None and entry["seed"] >= seeds:
        continue
    x = np.load(folder / f"{entry['stem']}.x.npy")
    y = np.load(folder / f"{entry['stem']}.y.npy")
    value = float(estimator.estimate(x, y))
    estimates[entry["task"]].append(value)
    print(f"{entry['task']:45s} seed {entry['seed']}  KSG {value:.4f}  truth {entry['truth']:.4f}", flush=True)
    means = {task: float(np.mean(v)) for task, v in estimates.items()}
    out.write_text(json.dumps(means, indent=1, ensure_ascii=False) + "\n")
print(f"wrote {out}")
