"""Python and the Rust library (through the command-line tool, which is the library)
give the same results bit for bit, and share one model file."""

import json

import numpy as np
import pytest

import rbig
from conftest import banana, curved, same_bits


@pytest.mark.parametrize("rotation", ["pca", "random", "ica"])
def test_fit_transform_score_sample_match_the_tool(tmp_path, cli, rotation):
    x = curved(3000, 3, seed=1)
    data = tmp_path / "x.npy"
    np.save(data, x)
    cli("fit", data, "-o", tmp_path / "m.rbig", "--rotation", rotation, "--seed", 3)
    est = rbig.RBIG(rotation=rotation, random_state=3).fit(x)
    # The same model, byte for byte, as the tool saves it.
    assert est.model_.to_bytes() == (tmp_path / "m.rbig").read_bytes()

    z = est.transform(x)
    cli("transform", tmp_path / "m.rbig", data, "-o", tmp_path / "z.npy")
    assert same_bits(z, np.load(tmp_path / "z.npy"))
    np.save(tmp_path / "zin.npy", z)
    cli("inverse", tmp_path / "m.rbig", tmp_path / "zin.npy", "-o", tmp_path / "back.npy")
    assert same_bits(est.inverse_transform(z), np.load(tmp_path / "back.npy"))
    cli("score", tmp_path / "m.rbig", data, "-o", tmp_path / "s.npy")
    assert same_bits(est.score_samples(x), np.load(tmp_path / "s.npy")[:, 0])
    cli("sample", tmp_path / "m.rbig", "-n", 500, "--seed", 9, "-o", tmp_path / "draws.npy")
    assert same_bits(est.sample(500, random_state=9), np.load(tmp_path / "draws.npy"))


def test_density_selection_matches_fit_density(tmp_path, cli):
    x = banana(2000, seed=2)
    np.save(tmp_path / "x.npy", x)
    cli("fit", tmp_path / "x.npy", "-o", tmp_path / "m.rbig", "--density", "--seed", 1)
    est = rbig.RBIG(density=True, random_state=1).fit(x)
    assert est.model_.to_bytes() == (tmp_path / "m.rbig").read_bytes()
    assert est.held_out_log_likelihood_ is not None


@pytest.mark.parametrize("units", ["nats", "bits"])
def test_information_functions_match_the_tool(tmp_path, cli, units):
    x = curved(2000, 4, seed=5)
    q = curved(2000, 4, seed=6) * 1.3
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "a.npy", x[:, :2])
    np.save(tmp_path / "b.npy", x[:, 2:])
    np.save(tmp_path / "q.npy", q)

    def tool(*args):
        report = json.loads(cli(*args, "--units", units).stdout)
        value = next(v for k, v in report.items() if k not in ("standard_error", "units", "method", "layers", "seconds"))
        return value, report["standard_error"], report["method"], report["layers"]

    cases = [
        (rbig.entropy(x, units=units), tool("entropy", tmp_path / "x.npy")),
        (rbig.total_correlation(x, units=units), tool("tc", tmp_path / "x.npy")),
        (rbig.mutual_information(x[:, :2], x[:, 2:], units=units), tool("mi", tmp_path / "a.npy", tmp_path / "b.npy")),
        (rbig.kl_divergence(x, q, units=units), tool("kld", tmp_path / "x.npy", tmp_path / "q.npy")),
    ]
    for ours, (value, se, method, layers) in cases:
        # JSON carries the shortest representation that reads back to the same double.
        assert (ours.value, ours.standard_error, ours.method, ours.layers) == (value, se, method, layers)
        assert ours.units == units


def test_models_move_between_python_and_the_tool(tmp_path, cli):
    x = curved(2000, 3, seed=7)
    np.save(tmp_path / "x.npy", x)
    # Python saves, the tool scores.
    est = rbig.RBIG(rotation="random", random_state=2).fit(x)
    est.save(tmp_path / "py.rbig")
    cli("score", tmp_path / "py.rbig", tmp_path / "x.npy", "-o", tmp_path / "s.npy")
    assert same_bits(est.score_samples(x), np.load(tmp_path / "s.npy")[:, 0])
    # The tool fits, Python loads and scores; the loaded estimator knows its parameters.
    cli("fit", tmp_path / "x.npy", "-o", tmp_path / "cli.rbig", "--rotation", "ica", "--knots", "smooth", "--seed", 4,
        "--whiten")
    cli("score", tmp_path / "cli.rbig", tmp_path / "x.npy", "-o", tmp_path / "s2.npy")
    loaded = rbig.RBIG.load(tmp_path / "cli.rbig")
    assert same_bits(loaded.score_samples(x), np.load(tmp_path / "s2.npy")[:, 0])
    assert loaded.get_params()["rotation"] == "ica"
    assert loaded.get_params()["knots"] == "smooth"
    assert loaded.get_params()["random_state"] == 4
    assert loaded.get_params()["whiten"] is True
    # Refitting the loaded estimator's parameters gives the tool's model again.
    assert rbig.RBIG(**loaded.get_params()).fit(x).model_.to_bytes() == (tmp_path / "cli.rbig").read_bytes()


def test_column_names_travel_between_pandas_and_the_tool(tmp_path, cli):
    pd = pytest.importorskip("pandas")
    x = curved(1500, 3, seed=8)
    frame = pd.DataFrame(x, columns=["height", "weight", "age"])
    rbig.RBIG().fit(frame).save(tmp_path / "py.rbig")
    draws = cli("sample", tmp_path / "py.rbig", "-n", 3).stdout
    assert draws.splitlines()[0] == "height,weight,age"
    # The tool reads a pandas CSV (index column dropped), stores the names; Python sees them.
    frame.to_csv(tmp_path / "frame.csv")
    cli("fit", tmp_path / "frame.csv", "-o", tmp_path / "cli.rbig")
    loaded = rbig.RBIG.load(tmp_path / "cli.rbig")
    assert list(loaded.feature_names_in_) == ["height", "weight", "age"]
    assert loaded.model_.to_bytes() == rbig.RBIG().fit(frame).model_.to_bytes()
    # Tail probabilities as `rbig score --tail` writes them.
    np.save(tmp_path / "x.npy", x)
    table = np.loadtxt(cli("score", tmp_path / "cli.rbig", tmp_path / "x.npy", "--tail").stdout.splitlines(), delimiter=",", skiprows=1)
    assert same_bits(loaded.tail_probability(frame), table[:, 1])
