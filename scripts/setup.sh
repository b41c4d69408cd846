#!/usr/bin/env bash
# Sets up a fresh clone: .venv with the runtime, the generator and the test tools, and the npm peers the
# tests run for real (MCP Inspector CLI, Prism, oidc-provider, supergateway, the reference MCP server).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
pip_install() {
  # Some machines' pip configuration names package folders that do not exist: pip warns once per
  # package; only real problems are shown.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }
}
pip_install --upgrade pip
pip_install -r requirements-dev.txt -e ./runtime -e .

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
