"""The README is what users read first: its diagnostics table lists every code the generator can emit, and
the quick start names the scripts that exist."""

from specbridge.codes import CODES

from tests.support import REPO

README = (REPO / "README.md").read_text()


def test_every_diagnostic_code_is_documented_with_its_meaning() -> None:
    missing = [code for code, meaning in CODES.items() if f"| {code} | {meaning} |" not in README]
    assert not missing


def test_the_quick_start_commands_exist() -> None:
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert f"bash {script}" in README and (REPO / script).exists()
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()
