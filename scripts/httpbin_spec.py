"""Writes specs/httpbin-0.10.4-swagger.json: the Swagger 2.0 document httpbin (PyPI, with flasgger) serves at
/spec.json, taken from the installed app itself, so the repository holds every input of generated/.
`tests/e2e/test_httpbin.py` checks that the committed file is still what httpbin serves."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SPEC = Path(__file__).resolve().parent.parent / "specs" / "httpbin-0.10.4-swagger.json"


def served_spec() -> dict[str, object]:
    import httpbin

    answer = httpbin.app.test_client().get("/spec.json")
    if answer.status_code != 200:
        raise SystemExit("httpbin does not serve /spec.json: install flasgger (requirements-dev.txt)")
    document: dict[str, object] = answer.get_json()
    return document


def main() -> None:
    SPEC.write_text(json.dumps(served_spec(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {SPEC}", file=sys.stderr)


if __name__ == "__main__":
    main()
