#!/usr/bin/env bash
# Sets up a fresh clone: .venv with the runtime, the generator and the test tools, and the npm peers the
# tests run for real (MCP Inspector CLI, Prism, oidc-provider, supergateway, the reference MCP server).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -r requirements-dev.txt -e ./runtime -e .

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
