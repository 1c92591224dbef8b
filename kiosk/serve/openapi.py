"""What the generated API docs (``/docs``) say of a request FastAPI cannot describe by itself.

A route that reads a multipart form by hand (photos and a few text fields) declares no body parameter,
so its request body is written out here, once, for every such route.
"""

from __future__ import annotations

from typing import Any

BINARY: dict[str, str] = {"type": "string", "format": "binary"}
"""A file part (a photo) of a multipart form."""


def multipart_body(required: list[str], properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route taking a ``multipart/form-data`` body with these fields."""
    fields = {name: dict(spec) for name, spec in properties.items()}  # BINARY is shared: copy it
    schema = {"type": "object", "required": list(required), "properties": fields}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}
