"""The distributions as a release builds them: sdist and wheel of `specbridge` and `specbridge-runtime`
pass `twine check --strict` and carry what users and tools rely on (metadata, license, typing marker, the
generator's templates and schemas)."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email.parser import Parser

import pytest

from tests.packaging.conftest import Distributions, run
from tests.support import REPO

pytestmark = pytest.mark.e2e


def test_twine_check_passes_on_every_sdist_and_wheel(distributions: Distributions) -> None:
    built = distributions.files("*.whl") + distributions.files("*.tar.gz")
    assert sorted(path.name.split("-")[0] for path in built) == ["specbridge"] * 2 + ["specbridge_runtime"] * 2
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, built)])
    assert checked.stdout.count("PASSED") == 4


@pytest.mark.parametrize("name, package", [("specbridge", "specbridge"), ("specbridge_runtime", "specbridge_runtime")])
def test_wheels_carry_complete_metadata_and_their_typing_marker(distributions: Distributions, name: str,
                                                               package: str) -> None:
    [wheel] = distributions.files(f"{name}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    assert f"{package}/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Description-Content-Type"] == "text/markdown" and len(metadata.get_payload()) > 500
    assert {"Typing :: Typed", "Programming Language :: Python :: 3.11"} <= set(metadata.get_all("Classifier"))
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert {"Homepage", "Source", "Changelog", "Issues"} <= set(urls)
    assert metadata["Requires-Python"] == ">=3.11"


def test_the_generator_wheel_built_from_its_sdist_holds_templates_and_schemas(distributions: Distributions) -> None:
    [wheel] = distributions.files("specbridge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    templates = {path.relative_to(REPO).as_posix() for path in (REPO / "templates").rglob("*.jinja")}
    assert {f"specbridge/{path}" for path in templates} <= names
    assert {"specbridge/server.schema.json", "specbridge/connector-definition.schema.json"} <= names
    [sdist] = distributions.files("specbridge-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {member.name.split("/", 1)[1] for member in archive.getmembers() if "/" in member.name}
    assert {"CHANGELOG.md", "LICENSE", "README.md", "pyproject.toml"} <= members
    assert not [member for member in members if member.startswith(("generated/", "tests/", "node_modules/"))]


def test_each_version_has_one_source() -> None:
    import specbridge
    import specbridge_runtime
    from specbridge_runtime.contract import __version__ as contract_version

    for pyproject in (REPO / "pyproject.toml", REPO / "runtime" / "pyproject.toml"):
        text = pyproject.read_text()
        assert 'dynamic = ["version"]' in text and "\nversion =" not in text
    assert specbridge_runtime.__version__ == contract_version
    assert f"## {specbridge.__version__}" in (REPO / "CHANGELOG.md").read_text()
