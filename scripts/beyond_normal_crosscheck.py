"""Cross-checks rbig-tasks' Beyond-Normal suite against the benchmark-mi package.

Prints, for every task of benchmark-mi 0.1.3's list, its name, its mutual information
and the first two moments of each column of 200,000 samples, for comparison with
`cargo test -p rbig-tasks -- --ignored --nocapture beyond_normal_moments`.

benchmark-mi needs pinned versions; in a throwaway virtual environment:

    python3 -m venv /tmp/bmi && /tmp/bmi/bin/pip install "numpy<2" "pandas<2" \\
        "pydantic<2" jax==0.4.20 jaxlib==0.4.20 scipy==1.12.0 chex==0.1.85 benchmark-mi==0.1.3
    /tmp/bmi/bin/python scripts/beyond_normal_crosscheck.py
"""

import numpy as np
from bmi.benchmark.task_list import BENCHMARK_TASKS_LIST

for task in BENCHMARK_TASKS_LIST:
    x, y = task.sample(200_000, seed=0)
    xy = np.concatenate([np.asarray(x), np.asarray(y)], axis=1)
    means = " ".join(f"{m:.3f}" for m in xy.mean(axis=0)[:4])
    sds = " ".join(f"{s:.3f}" for s in np.median(np.abs(xy - np.median(xy, axis=0)), axis=0)[:4])
    print(f"{task.name:45s} MI {task.mutual_information:.4f}  mean {means}  MAD {sds}")
