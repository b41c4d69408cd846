#!/usr/bin/env bash
# Every benchmark with one command: sets up the project and the peer (FastMCP 4.1.6), then prints each
# figure next to the peer's, measured in the same run, with the ratio and the target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash benchmarks/setup.sh
echo "== Stripe as one server: start-up, tools/list size, memory; generation times (bench_startup.py)"
.venv/bin/python benchmarks/bench_startup.py "$@"
echo
echo "== Per-call overhead and throughput against FastMCP (bench_calls.py)"
.venv/bin/python benchmarks/bench_calls.py
echo
echo "== Search quality of --tools dynamic: 76 tasks on Stripe and GitHub against plain BM25 (bench_search.py)"
.venv/bin/python benchmarks/bench_search.py
echo
echo "== Replicas: throughput of 1 against 3, and the shared limiter's cost per call (bench_replicas.py)"
.venv/bin/python benchmarks/bench_replicas.py
