"""Stable diagnostic codes of the generator's front (load, definition, validate, normalize).

A code never changes meaning once published; the README's diagnostics table is built from `CODES`.
Ranges: SB1xx load, SB2xx definition files, SB3xx validation, SB4xx normalization. Later stages use SB5xx+.
"""

from __future__ import annotations

# load
UNREADABLE = "SB101"
TOO_LARGE = "SB102"
NOT_UTF8 = "SB103"
SYNTAX = "SB104"
TOO_COMPLEX = "SB105"
NOT_A_MAPPING = "SB106"
HTML_PAGE = "SB107"
REF_REFUSED = "SB110"
REF_UNRESOLVED = "SB111"
REF_CYCLE = "SB112"
OVERLAY_NO_MATCH = "SB120"
OVERLAY_INVALID = "SB121"
OVERLAY_REFUSED = "SB122"

# definition files
DEFINITION_INVALID = "SB201"
DEFINITION_UNKNOWN_KEY = "SB202"
PLAIN_SECRET = "SB203"  # noqa: S105 - a diagnostic code, not a secret
RESERVED_VARIABLE = "SB204"
REMOTE_REFERENCE = "SB205"

# validation
VERSION = "SB301"
STRUCTURE = "SB302"
DUPLICATE_OPERATION_ID = "SB303"
PATH_TEMPLATE = "SB304"
DEEP_FINDING = "SB305"
DEEP_FAILED = "SB306"

# normalization
NO_OPERATIONS = "SB401"
TOO_MANY_OPERATIONS = "SB402"
OPERATION_SKIPPED = "SB403"
UNSUPPORTED_KEYWORD = "SB404"
INVALID_SCHEMA = "SB405"
SCHEMA_REF = "SB406"
PARAMETER = "SB407"
IGNORED_HEADER = "SB408"
BODY = "SB409"
AUTH = "SB410"
BASE_URL = "SB411"
NOT_GENERATED = "SB412"
NAMING = "SB413"
DEFINITION_MISMATCH = "SB414"

# models and input schemas (SB5xx)
PATTERN_DROPPED = "SB501"
ALL_OF_NOT_MERGED = "SB502"
TOO_DEEP = "SB503"
TOO_MANY_MODELS = "SB504"
ENUM_NOT_CHECKED = "SB505"
DEFAULT_DROPPED = "SB506"
MODEL_REF = "SB507"
MODEL_CYCLE = "SB508"
MODEL_UNBUILDABLE = "SB510"
UNION_NOT_CHECKED = "SB511"
CONSTRAINT_NOT_CHECKED = "SB512"
INPUT_SCHEMA_BUDGET = "SB513"

# project file, output folder and the generate command (SB6xx)
PROJECT_INVALID = "SB601"
OUT_NOT_OURS = "SB602"
OUT_UNSAFE = "SB603"
SOURCE_UNKNOWN = "SB604"
STRICT_WARNINGS = "SB605"
NOTHING_GENERATED = "SB606"
WRITE_FAILED = "SB607"

# MCP Registry and wrapper connectors (SB7xx)
REGISTRY_UNREACHABLE = "SB701"
REGISTRY_NOT_FOUND = "SB702"
REGISTRY_INVALID = "SB703"
REGISTRY_PLACEHOLDER = "SB704"
WRAPPER_NO_ENTRY = "SB705"
WRAPPER_SECRET_ARGUMENT = "SB706"  # noqa: S105 - a diagnostic code, not a secret
WRAPPER_MISSING_VALUE = "SB707"
WRAPPER_OCI = "SB708"

# MCP Bundles (SB8xx)
BUNDLE_NOT_A_PACKAGE = "SB801"
BUNDLE_INSTALL_FAILED = "SB802"
BUNDLE_WRITE_FAILED = "SB803"

CODES: dict[str, str] = {
    UNREADABLE: "the file or URL could not be read",
    TOO_LARGE: "the input is larger than the limit",
    NOT_UTF8: "the input is not UTF-8 text",
    SYNTAX: "the input is not valid JSON or YAML",
    TOO_COMPLEX: "the input nests too deeply or expands too far (YAML aliases)",
    NOT_A_MAPPING: "the document is not a JSON object / YAML mapping",
    HTML_PAGE: "the file or URL is an HTML page (a login or documentation page?), not a spec",
    REF_REFUSED: "an external $ref leaves the spec's folder or origin and was not followed",
    REF_UNRESOLVED: "a $ref points at nothing",
    REF_CYCLE: "a $ref outside schemas refers to itself",
    OVERLAY_NO_MATCH: "an overlay action's target matches nothing in the spec",
    OVERLAY_INVALID: "an overlay is not an Overlay 1.0 document, or an action's target or update is unusable",
    OVERLAY_REFUSED: "an overlay named in a definition leaves the definition's folder or origin and was not read",
    DEFINITION_INVALID: "the connector definition does not match its schema",
    DEFINITION_UNKNOWN_KEY: "the connector definition has a key the format does not know (ignored)",
    PLAIN_SECRET: "a secret is written in plain text instead of env:, vault: or enc:",
    RESERVED_VARIABLE: "an env: reference names one of the server's own secrets (SPECBRIDGE_...)",
    REMOTE_REFERENCE: "a definition read from a URL refers to a local file or another host",
    VERSION: "the document is not Swagger 2.0, OpenAPI 3.0 or OpenAPI 3.1",
    STRUCTURE: "the document's structure is not what the specification requires",
    DUPLICATE_OPERATION_ID: "two operations share an operationId",
    PATH_TEMPLATE: "a path template and its path parameters do not match",
    DEEP_FINDING: "--deep: openapi-spec-validator found the document invalid here",
    DEEP_FAILED: "--deep: openapi-spec-validator could not check the document (it failed, or wanted to read a file "
                 "or URL)",
    NO_OPERATIONS: "there are no operations to generate",
    TOO_MANY_OPERATIONS: "more operations than the per-connector limit",
    OPERATION_SKIPPED: "an operation could not be turned into a tool and was left out",
    UNSUPPORTED_KEYWORD: "a schema keyword is not supported and was dropped",
    INVALID_SCHEMA: "a schema value is invalid and was dropped or replaced",
    SCHEMA_REF: "a schema $ref could not be resolved, or refers to itself inline",
    PARAMETER: "a parameter is malformed or was adjusted",
    IGNORED_HEADER: "a header parameter the HTTP layer sets itself was ignored",
    BODY: "the request body could not be represented as described",
    AUTH: "an auth scheme is unsupported, incomplete or over the limit",
    BASE_URL: "the base URL is missing or relative",
    NOT_GENERATED: "a construct (webhooks, callbacks) is not turned into tools",
    NAMING: "a name was changed to fit the rules",
    DEFINITION_MISMATCH: "the definition names an operation or tool that does not exist",
    PATTERN_DROPPED: "a pattern does not compile in Python's and pydantic's regex engines and is not checked",
    ALL_OF_NOT_MERGED: "an allOf of schemas that are not all objects: only its first schema is checked",
    TOO_DEEP: "a schema nests deeper than the models allow: the inner value is accepted as any value",
    TOO_MANY_MODELS: "more model classes than the limit: further objects are accepted as any object",
    ENUM_NOT_CHECKED: "enum values that are not strings, integers or booleans (or too many) are not checked",
    DEFAULT_DROPPED: "a default that does not fit its schema is not advertised",
    MODEL_REF: "a schema reference the models cannot follow: any value is accepted there",
    MODEL_CYCLE: "a schema refers to itself without an object in between: the inner value is accepted as any value",
    MODEL_UNBUILDABLE: "a tool's input model cannot be built, so the tool was left out",
    UNION_NOT_CHECKED: "a oneOf/anyOf has more members than the models check: any value is accepted there",
    CONSTRAINT_NOT_CHECKED: "a schema constraint the models cannot check is not checked before sending",
    INPUT_SCHEMA_BUDGET: "a tool's input schema is over its budget: its deepest objects are accepted as open objects",
    PROJECT_INVALID: "specbridge.yaml does not have the expected shape",
    OUT_NOT_OURS: "the output folder has files but no specbridge.lock, so it is not overwritten",
    OUT_UNSAFE: "a path would leave the output folder, or the output folder holds a symlink",
    SOURCE_UNKNOWN: "the input is neither a connector definition (`type:`) nor an OpenAPI/Swagger document",
    STRICT_WARNINGS: "--strict: warnings fail generation",
    NOTHING_GENERATED: "no package could be generated",
    WRITE_FAILED: "the output folder could not be written (permissions, disk space)",
    REGISTRY_UNREACHABLE: "the MCP Registry could not be reached or answered an error",
    REGISTRY_NOT_FOUND: "the MCP Registry has no such server or version",
    REGISTRY_INVALID: "a registry answer or server.json does not match the schema",
    REGISTRY_PLACEHOLDER: "a server.json holds a ${...} placeholder that could not be filled in",
    WRAPPER_NO_ENTRY: "the server has no package or remote specbridge can run or reach",
    WRAPPER_SECRET_ARGUMENT: "a secret would go on a command line; it is passed another way or refused",
    WRAPPER_MISSING_VALUE: "a required argument, variable, header or environment variable has no value",
    WRAPPER_OCI: "an OCI (container) server runs with docker, which must be installed where the wrapper runs",
    BUNDLE_NOT_A_PACKAGE: "the folder is not a package made by specbridge gen (no valid pyproject.toml or server.json)",
    BUNDLE_INSTALL_FAILED: "pip could not install the package and its dependencies into the bundle",
    BUNDLE_WRITE_FAILED: "the bundle file could not be written",
}
