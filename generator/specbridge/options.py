"""What the user asked `specbridge gen` for, beyond the input itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Until a team sets its own (`io.github.<owner>`), the registry name says it is not published.
DEFAULT_NAMESPACE = "local.specbridge"


@dataclass(frozen=True)
class GenOptions:
    name: str | None = None  # connector name; else the definition's, the spec title's or the file stem
    base_url: str | None = None  # wins over the definition's and the spec's
    include: tuple[str, ...] = ()  # fnmatch globs on operationId, tag or path
    exclude: tuple[str, ...] = ()
    max_operations: int = 100  # per connector (per package with split_by)
    split_by: Literal["tag"] | None = None
    # The namespace of the package's name in the MCP Registry (`io.github.<owner>`), for its server.json.
    registry_namespace: str = DEFAULT_NAMESPACE
    strict: bool = False  # warnings fail generation (the CLI decides; normalize does not look at it)
    overlays: tuple[str, ...] = ()  # Overlay 1.0 files (relative to cwd or URLs), after the definition's
    deep: bool = False  # also run openapi-spec-validator (confined) on the bundled document
    tools: Literal["direct", "dynamic"] | None = None  # None: the definition's, else direct
    output_schemas: Literal["loose", "none"] | None = None  # None: the definition's, else loose
    # Headers sent when fetching a spec or definition by URL (its origin only): name and value, the value
    # a reference (env:, vault:, enc:) resolved when fetching, or plain text.
    spec_headers: tuple[tuple[str, str], ...] = ()
