"""render for wrapper connectors: the files of an emitted wrapper package, as text, from its IR.

The package has the shape of a REST one (pyproject with the `<name>-mcp` script and the
`specbridge.connectors` entry point, README, src/<name>_mcp/{__init__,__main__,connector}.py, tests/);
its connector module holds a `WrapperSpec` literal instead of operations, since the tools are the
upstream server's, discovered when the wrapper connects.
"""

from __future__ import annotations

from collections.abc import Mapping

from specbridge_runtime.contract import RemoteUpstream, StdioUpstream, WrapperSpec, runtime_requirement

from .clients import client_context
from .environment import wrapper_environment
from .escape import Identifier, Markdown, md_code, md_inline, md_prose, py_literal
from .format import format_python
from .ir import WrapperConnector
from .options import DEFAULT_NAMESPACE
from .render import (
    TemplateValue,
    descriptor_source,
    pyproject,
    render_template,
    secret_line,
    server_json,
)
from .write import LOCK, Sources, lock_file


def render_wrapper_package(connector: WrapperConnector, *, generator_version: str, runtime_version: str,
                           registry_namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """Every file of the wrapper package except `specbridge.lock`: relative path -> text (Python not yet
    formatted, see `format.py`)."""
    name = connector.name
    package = Identifier(f"{name}_mcp")
    distribution = f"{name}-mcp"
    source_dir = f"src/{package}"
    return {
        "pyproject.toml": pyproject(name, connector.version, f"MCP server wrapping {connector.title or name}",
                                    [runtime_requirement(runtime_version), *connector.requirements]),
        "README.md": _readme(connector, generator_version=generator_version,
                             runtime_requirement=runtime_requirement(runtime_version)),
        f"{source_dir}/__init__.py": render_template("rest/__init__.py.jinja", {
            "runtime_version": py_literal(runtime_version), "distribution": py_literal(distribution),
        }),
        f"{source_dir}/__main__.py": render_template("rest/__main__.py.jinja", {}),
        f"{source_dir}/py.typed": "",
        f"{source_dir}/connector.py": _connector_module(connector),
        "tests/test_wrapper.py": render_template("wrapper/test_wrapper.py.jinja", {
            "package": package, "name": py_literal(name), "command_text": Markdown(distribution),
        }),
        "server.json": server_json(name, connector.version, connector.title or name, connector.description,
                                   wrapper_environment(connector), registry_namespace),
    }


def wrapper_spec(connector: WrapperConnector) -> WrapperSpec:
    return WrapperSpec(name=connector.name, title=connector.title, version=connector.version,
                       upstream=connector.upstream, description=connector.description, limits=connector.limits)


def _connector_module(connector: WrapperConnector) -> str:
    used: set[str] = {"WrapperPackage", "run_cli"}
    spec = descriptor_source(wrapper_spec(connector), used)
    return render_template("wrapper/connector.py.jinja", {
        "connector": spec, "runtime_imports": [Identifier(name) for name in sorted(used)],
    })


def _readme(connector: WrapperConnector, *, generator_version: str, runtime_requirement: str) -> str:
    name = connector.name
    command = f"{name}-mcp"
    upstream = connector.upstream
    if isinstance(upstream, StdioUpstream):
        reaches = Markdown(f"starts {md_code(upstream.command)} and talks to it over stdio")
    else:
        reaches = Markdown(f"reaches the MCP server at {md_code(upstream.url)} over "
                           f"{md_inline(upstream.transport.replace('_', ' '))}")
    origin = (Markdown(f"the MCP Registry entry {md_code(connector.sources[-1])}") if connector.kind == "mcp_registry"
              else Markdown("a custom MCP connector definition"))
    return render_template("wrapper/README.md.jinja", {
        "title": md_inline(connector.title or name),
        "description": md_prose(connector.description),
        "generator_version": md_inline(generator_version),
        "origin": origin,
        "reaches": reaches,
        "name": Markdown(name),
        "command_text": Markdown(command),
        "notes": [md_inline(note) for note in connector.notes],
        "secrets": _secret_lines(upstream, command, name),
        **client_context(name, wrapper_environment(connector), runtime_requirement),
    })


def _secret_lines(upstream: StdioUpstream | RemoteUpstream, command: str, name: str) -> list[TemplateValue]:
    """How to provide each secret the upstream connection reads: environment variables of a stdio server,
    headers and auth of a remote one."""
    where: Mapping[str, tuple[tuple[str, str], ...]]
    if isinstance(upstream, StdioUpstream):
        where = {"environment variable": upstream.env}
    else:
        auth = upstream.auth.secrets if upstream.auth is not None else ()
        where = {"header": upstream.headers, f"{upstream.auth.type} auth" if upstream.auth else "auth": auth}
    lines: list[TemplateValue] = []
    for kind, pairs in where.items():
        for key, reference in pairs:
            line = secret_line(Markdown(f"{kind} {md_code(key)}"), reference, command, name)
            if line is not None:
                lines.append(line)
    if isinstance(upstream, RemoteUpstream) and upstream.auth is not None and upstream.auth.type == "oauth2":
        lines.append(Markdown("- OAuth: the server's authorization is discovered from the MCP server; sign in with "
                              f"{md_code(command + ' login')}; tokens are kept in the vault of {md_code(name)}."))
    return lines


def wrapper_files(connector: WrapperConnector, sources: Sources, *, generator_version: str, runtime_version: str,
                  registry_namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """The complete package: rendered, Python formatted, and its `specbridge.lock`."""
    files = render_wrapper_package(connector, generator_version=generator_version, runtime_version=runtime_version,
                                   registry_namespace=registry_namespace)
    python = {path: text for path, text in files.items() if path.endswith(".py")}
    files.update(format_python(python, first_party=[f"{connector.name}_mcp"]))
    files[LOCK] = lock_file(files, sources, generator_version=generator_version,
                            runtime_requirement=runtime_requirement(runtime_version))
    return files
