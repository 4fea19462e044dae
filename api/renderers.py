"""The API's JSON renderer (`DEFAULT_RENDERER_CLASSES`; issue "Performance"): DRF's `JSONRenderer`,
the same bytes, with what it works out anew for every response remembered. `api.fastpath` lists
the DRF source it relies on in `GUARDED_SOURCES`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import renderers
from rest_framework.compat import INDENT_SEPARATORS, LONG_SEPARATORS, SHORT_SEPARATORS

_UNKNOWN = object()


class JSONRenderer(renderers.JSONRenderer):
    """DRF's `JSONRenderer.render`, with the indent of each accepted media type (DRF parses the
    media type's parameters for every response) and the encoder of each indent remembered
    (`json.dumps(data, cls=…)` makes an encoder per call; its `encode` keeps no state between
    calls). ~5 µs of a print request (benchmarks/PROFILE.md); `api/tests/test_renderers.py`
    compares the bytes with DRF's."""

    _indents: dict[tuple[type, str], int | None] = {}
    _encoders: dict[tuple[type, int | None], json.JSONEncoder] = {}
    max_entries = 64

    def get_indent(self, accepted_media_type: str, renderer_context: Mapping[str, Any]) -> int | None:
        if "indent" in renderer_context or (accepted_media_type and len(accepted_media_type) > 200):
            return super().get_indent(accepted_media_type, renderer_context)
        key = (type(self), accepted_media_type)
        indent = self._indents.get(key, _UNKNOWN)
        if indent is _UNKNOWN:
            indent = super().get_indent(accepted_media_type, renderer_context)
            if len(self._indents) >= self.max_entries:
                self._indents.clear()
            self._indents[key] = indent
        return indent  # type: ignore[return-value]

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type or "", renderer_context or {})
        key = (type(self), indent)
        encoder = self._encoders.get(key)
        if encoder is None:
            if indent is None:
                separators = SHORT_SEPARATORS if self.compact else LONG_SEPARATORS
            else:
                separators = INDENT_SEPARATORS
            encoder = self.encoder_class(
                indent=indent, ensure_ascii=self.ensure_ascii, allow_nan=not self.strict, separators=separators
            )
            if len(self._encoders) >= self.max_entries:
                self._encoders.clear()
            self._encoders[key] = encoder
        text = encoder.encode(data)
        # As DRF: \u2028 and \u2029 escaped, so that the JSON is a strict JavaScript subset.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
