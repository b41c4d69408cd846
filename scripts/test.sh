#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite: lint, types, generated-output drift, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate

echo "== ruff"; ruff check generator runtime tests benchmarks scripts
echo "== mypy --strict"; mypy
echo "== import-linter: layers and the generator/runtime contract"; lint-imports
echo "== generated/ is up to date"; specbridge gen --check
echo "== pytest"; pytest "$@"
