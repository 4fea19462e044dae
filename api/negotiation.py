"""The API's content negotiation (`DEFAULT_CONTENT_NEGOTIATION_CLASS`; issue "Performance"). DRF
imports it while `rest_framework.views` is being imported, so it lives apart from `api.fastpath`,
which lists the DRF source it relies on in `GUARDED_SOURCES`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class CachedContentNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation (the API's `DEFAULT_CONTENT_NEGOTIATION_CLASS`), with its answer
    remembered: it depends only on the renderers, the `Accept` header and the format, and every
    request of an app or portal sends the same few headers. The cache is bounded (cleared when
    full) and skips long headers, so client input cannot grow it; a 406 is not cached."""

    cache: dict[tuple[Any, ...], tuple[int, str]] = {}
    max_entries = 256

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        accept = request.META.get("HTTP_ACCEPT", "*/*")  # what `request.headers` would build a mapping for
        if len(accept) > 200:
            return super().select_renderer(request, renderers, format_suffix)
        # `query_params` parses the query string on first use; the API's requests have none.
        query = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) if request.META.get("QUERY_STRING") else None
        key = (accept, format_suffix, query, *map(type, renderers))
        known = self.cache.get(key)
        if known is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            if len(self.cache) >= self.max_entries:
                self.cache.clear()
            known = self.cache[key] = (renderers.index(renderer), media_type)
        return renderers[known[0]], known[1]
