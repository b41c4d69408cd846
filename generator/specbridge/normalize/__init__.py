"""normalize: OpenAPI 2.0/3.0/3.1 documents and hand-written operations as the IR (`specbridge.ir`)."""

from specbridge.normalize.connector import NormalizeResult, normalize_rest

__all__ = ["NormalizeResult", "normalize_rest"]
