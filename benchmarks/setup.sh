#!/usr/bin/env bash
# Sets up the project (scripts/setup.sh) plus the benchmark peer, FastMCP 4.1.6, in the same .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps fastmcp==4.1.6 fastmcp-slim==4.1.6
