#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), then the main job: generate an MCP server from httpbin's OpenAPI
# description, install it, and show it answering a real MCP client against httpbin on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py
