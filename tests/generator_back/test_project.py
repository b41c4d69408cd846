"""specbridge.yaml: the project's connectors as generation jobs; a malformed file is diagnostics."""

from __future__ import annotations

from pathlib import Path

from specbridge import codes
from specbridge.options import GenOptions
from specbridge.project import find_project, read_project


def test_entries_become_jobs_with_paths_from_the_project_folder(tmp_path: Path) -> None:
    (tmp_path / "specbridge.yaml").write_text(
        "connectors:\n"
        "  - source: specs/a.json\n    out: generated/a\n    name: alpha\n    include: ['pets*']\n"
        "    max_operations: 5\n    split_by: tag\n"
        "  - specs/b.yaml\n"
    )
    project = read_project(tmp_path / "specbridge.yaml")
    assert project.diagnostics == ()
    first, second = project.jobs
    assert first.source == "specs/a.json"
    assert first.out == tmp_path / "generated" / "a"
    assert first.options == GenOptions(name="alpha", include=("pets*",), max_operations=5, split_by="tag")
    assert (second.source, second.out, second.options) == ("specs/b.yaml", None, GenOptions())


def test_the_project_file_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "specbridge.yaml").write_text("connectors: []\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_project(tmp_path / "a" / "b") == tmp_path / "specbridge.yaml"


def test_mistakes_are_diagnostics_pointing_at_them(tmp_path: Path) -> None:
    path = tmp_path / "specbridge.yaml"
    path.write_text("connectors:\n  - source: a.json\n    max_operations: 0\n    colour: red\n")
    project = read_project(path)
    assert project.jobs == ()
    assert {(d.code, d.location) for d in project.diagnostics} == {
        (codes.PROJECT_INVALID, "#/connectors/0/max_operations"),
        (codes.PROJECT_INVALID, "#/connectors/0/colour"),
    }


def test_unparsable_yaml_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "specbridge.yaml"
    path.write_text("connectors: [\n")
    project = read_project(path)
    assert project.jobs == () and project.diagnostics
