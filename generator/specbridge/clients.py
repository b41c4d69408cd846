"""What a generated README says about installing the package and configuring MCP clients: the values of
`templates/common/install_and_clients.md.jinja`, for REST and wrapper packages alike.

Clients start a server without the user's shell, so every snippet names the command as installed: the
absolute path of `NAME-mcp` (placeholder `/ABSOLUTE/PATH/TO/NAME-mcp`: what `command -v NAME-mcp` prints),
or `uvx --from NAME-mcp NAME-mcp`, which needs only `uv` and a package index (or `--find-links`) holding the
package and its runtime. Each has an `env` block with the variables the connector reads (`environment.py`):
credentials always, the base URL when the spec has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .environment import EnvVar
from .escape import Escaped, Markdown, md_code, md_json, sh_words

ABSOLUTE_PREFIX = "/ABSOLUTE/PATH/TO/"
HTTP_URL = "http://127.0.0.1:8000/mcp"
SERVER_TOKEN = "SPECBRIDGE_SERVER_TOKEN"  # noqa: S105 - the name of the variable, not a token


def placeholder(variable: str) -> str:
    """What a snippet holds where the user puts a variable's value."""
    return f"<{variable}>"


def client_context(name: str, environment: Sequence[EnvVar], runtime_requirement: str,
                   ) -> dict[str, Escaped | list[Markdown]]:
    distribution = f"{name}-mcp"
    absolute = ABSOLUTE_PREFIX + distribution
    uvx_args = ["--from", distribution, distribution]
    shown = [variable for variable in environment if variable.secret or variable.required]
    env = {variable.name: placeholder(variable.name) for variable in shown}
    inputs = [{"type": "promptString", "id": variable.name.lower(), "description": variable.name,
               "password": variable.secret} for variable in shown]
    prompted = {variable.name: f"${{input:{variable.name.lower()}}}" for variable in shown}
    vscode_server: dict[str, Any] = {"type": "stdio", "command": absolute, "args": [], "env": prompted}
    env_flags = [word for key, value in env.items() for word in ("--env", f"{key}={value}")]
    bearer = f"Bearer {placeholder(SERVER_TOKEN)}"
    return {
        "distribution": Markdown(distribution),
        "runtime_requirement": Markdown(runtime_requirement),
        "absolute_command": Markdown(absolute),
        "variables": [md_code(variable.name) for variable in shown],
        "claude_desktop_config": md_json({"mcpServers": {name: {"command": absolute, "args": [], "env": env}}}),
        "cursor_config": md_json({"mcpServers": {name: {"command": "uvx", "args": uvx_args, "env": env}}}),
        "vscode_config": md_json({"inputs": inputs, "servers": {name: vscode_server}} if inputs
                                 else {"servers": {name: vscode_server}}),
        "claude_code_command": sh_words(["claude", "mcp", "add", name, "--transport", "stdio", *env_flags, "--",
                                         "uvx", *uvx_args]),
        "http_serve_command": sh_words(["env", f"{SERVER_TOKEN}={placeholder(SERVER_TOKEN)}", *env_flags[1::2],
                                        distribution, "serve", "--transport", "http", "--port", "8000"]),
        "http_config": md_json({"servers": {name: {"type": "http", "url": HTTP_URL,
                                                   "headers": {"Authorization": bearer}}}}),
        "http_claude_code_command": sh_words(["claude", "mcp", "add", name, "--transport", "http", HTTP_URL,
                                              "--header", f"Authorization: {bearer}"]),
    }
