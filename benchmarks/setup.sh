#!/usr/bin/env bash
# Sets up the project (scripts/setup.sh) plus the benchmark peers: FastMCP 4.1.6 in the same .venv, and
# openapi-mcp-generator 4.0.1 from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps fastmcp==4.1.6 fastmcp-slim==4.1.6
# The Node peer (openapi-mcp-generator 4.0.1); its projects are generated and built by benchmarks/node_peer.py.
npm ci --prefix benchmarks/node --no-audit --no-fund --loglevel=error
