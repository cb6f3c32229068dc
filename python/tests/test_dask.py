"""rbig.dask on a local cluster of two worker processes: block-by-block results equal
the in-memory ones bit for bit, and fitting on a sample never gathers the array."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rbig
from conftest import same_bits

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import rbig.dask  # noqa: E402


def dependent(rows, chunk_rows, seed):
    """A lazy non-Gaussian array with dependent columns, generated on the workers."""
    y = da.random.RandomState(seed).standard_normal((rows, 10), chunks=(chunk_rows, 10))
    return y + 0.3 * y[:, ::-1] ** 2


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_blockwise_results_equal_in_memory_results(client):
    x = dependent(2_000_000, 100_000, seed=0)
    assert x.numblocks == (20, 1)
    local = x.compute()
    model = rbig.RBIG().fit(local[:20_000])
    assert same_bits(rbig.dask.score_samples(model, x).compute(), model.score_samples(local))
    # The transforms on the first four blocks (the whole array would double the time).
    part = x[:400_000]
    z = rbig.dask.transform(model, part)
    z_local = model.transform(local[:400_000])
    assert same_bits(z.compute(), z_local)
    assert same_bits(rbig.dask.inverse_transform(model.model_, z).compute(), model.inverse_transform(z_local))
    with pytest.raises(ValueError, match="expecting 10 features"):
        rbig.dask.score_samples(model, x[:, :3])


def test_sample_rows_is_a_reproducible_uniform_sample(client):
    # Row i holds the value i: the sample's values are its row numbers.
    x = da.arange(1_000_000, chunks=50_000, dtype=np.float64).reshape(-1, 1)
    rows = rbig.dask.sample_rows(x, 100_000, random_state=3)[:, 0]
    assert len(np.unique(rows)) == 100_000  # without replacement
    assert same_bits(rows, rbig.dask.sample_rows(x, 100_000, random_state=3)[:, 0])
    # Uniform over the rows: each tenth of the array holds a tenth of the sample.
    counts = np.bincount((rows // 100_000).astype(int), minlength=10)
    expected = 10_000
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 27.9, counts  # the chi-square(9) 0.999 quantile
    with pytest.raises(ValueError, match="between 1 and"):
        rbig.dask.sample_rows(x, 2_000_000)


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, re
    import numpy as np, dask.array as da, distributed
    import rbig, rbig.dask

    def status(field):
        with open("/proc/self/status") as f:
            return int(re.search(field + r":\\s+(\\d+) kB", f.read()).group(1)) * 1024

    def reset_peak():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    if __name__ == "__main__":
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster):
            y = da.random.RandomState(0).standard_normal((2_000_000, 10), chunks=(100_000, 10))
            x = y + 0.3 * y[:, ::-1] ** 2
            rbig.dask.fit(x, sample_rows=2_000, random_state=1)  # warm up connections
            out, rows, model = {}, None, None
            for step in ("sample", "fit"):
                before = status("VmRSS")
                reset_peak()
                if step == "sample":
                    rows = rbig.dask.sample_rows(x, 200_000, random_state=0)
                else:
                    model = rbig.dask.fit(x, sample_rows=200_000, random_state=0)
                out[step] = status("VmHWM") - before
                rows = None
            out["layers"] = model.n_layers_
            print(json.dumps(out))
    """
)


def test_fit_on_a_sample_holds_the_sample_and_a_chunk(tmp_path):
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    grown = json.loads(done.stdout.strip().splitlines()[-1])
    sample, chunk, array = 200_000 * 10 * 8, 100_000 * 10 * 8, 2_000_000 * 10 * 8
    # The fit's own working memory: one dimension-major copy of its input and per-thread
    # column buffers (the library's estimate, measured at 2.05x the input).
    fit_work = 1.1 * sample + 2 * 8 * 200_000 * 2
    slack = 16 * 2**20  # transfer buffers and the allocator's rounding
    print(
        f"client peak RSS growth: sampling {grown['sample'] / 2**20:.1f} MiB, sampling + fit "
        f"{grown['fit'] / 2**20:.1f} MiB (sample {sample / 2**20:.1f} MiB, chunk {chunk / 2**20:.1f} MiB, "
        f"whole array {array / 2**20:.1f} MiB)"
    )
    assert grown["sample"] <= sample + chunk + slack
    assert grown["fit"] <= sample + chunk + fit_work + slack
    assert grown["layers"] >= 1
