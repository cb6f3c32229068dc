#!/usr/bin/env bash
# The Python package's test suite, as a user would meet it: the package built and
# installed from source into a fresh virtual environment (pip + maturin), then pytest.
# The parity tests compare with the `rbig` tool built from the same checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${RBIG_VENV:-target/python-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "./python[test]"
cargo build --release --quiet --bin rbig
# From the repository root, so that `import rbig` finds the installed package and not
# the source folder python/rbig (which has no compiled module).
RBIG_CLI="$PWD/target/release/rbig" "$venv/bin/python" -m pytest python/tests -q -rP --show-capture=stdout -p no:cacheprovider "$@"
