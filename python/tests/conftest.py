"""Shared helpers: the command-line tool (for parity checks) and test data."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _find_cli():
    """The `rbig` tool: $RBIG_CLI (CI sets it, and then it must exist), else a build in
    the repository's target directory, else one on PATH."""
    given = os.environ.get("RBIG_CLI")
    if given:
        assert Path(given).is_file(), f"RBIG_CLI={given} does not exist"
        return given
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "rbig"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("rbig")


@pytest.fixture(scope="session")
def cli():
    path = _find_cli()
    if path is None:
        pytest.skip("the rbig tool is not built (cargo build --release, or set RBIG_CLI)")

    def run(*args, check=True):
        done = subprocess.run([path, "-q", *map(str, args)], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"rbig {' '.join(map(str, args))} failed: {done.stderr}")
        return done

    return run


def banana(n, seed):
    """x2 = x1^2 + e/2 with x1, e standard normal: the density suite's banana."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return np.column_stack([x1, x1**2 + 0.5 * rng.normal(size=n)])


def curved(n, d, seed):
    """A non-Gaussian, dependent d-column sample (skewed, heavy and curved columns)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    x = z.copy()
    for j in range(1, d):
        x[:, j] = z[:, j] + 0.6 * z[:, j - 1] ** 2
    x[:, 0] = np.exp(0.5 * z[:, 0])
    return x


def same_bits(a, b):
    """Equal bit for bit (not merely within rounding): same shape, same bytes."""
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()
