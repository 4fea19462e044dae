"""api/negotiation.py: the remembered content negotiation answers exactly as DRF's own does, and
its cache stays bounded."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from api.negotiation import CachedContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html, application/json;q=0.5",
    "application/*",
    "image/png",
    "application/json, " + "x" * 300,
]


def answer(negotiation, accept: str | None, query: str = "", renderers=(JSONRenderer,)):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get("/app/print/" + query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, [cls() for cls in renderers])
    except exceptions.NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
@pytest.mark.parametrize("renderers", [(JSONRenderer,), (JSONRenderer, BrowsableAPIRenderer)])
def test_answers_as_drf_does_first_and_from_the_cache(accept, query, renderers):
    CachedContentNegotiation.cache.clear()
    expected = "404" if query == "?format=api" and BrowsableAPIRenderer not in renderers else None
    try:
        expected = answer(DefaultContentNegotiation(), accept, query, renderers)
    except Exception as exc:  # Http404 for an unknown format
        expected = type(exc).__name__
    for _ in range(2):  # computed, then remembered
        try:
            got = answer(CachedContentNegotiation(), accept, query, renderers)
        except Exception as exc:
            got = type(exc).__name__
        assert got == expected


def test_the_cache_is_bounded_and_skips_long_headers():
    CachedContentNegotiation.cache.clear()
    for n in range(CachedContentNegotiation.max_entries + 10):
        answer(CachedContentNegotiation(), f"application/json; v={n}")
    assert 0 < len(CachedContentNegotiation.cache) <= CachedContentNegotiation.max_entries
    CachedContentNegotiation.cache.clear()
    answer(CachedContentNegotiation(), "application/json, " + "x" * 300)
    answer(CachedContentNegotiation(), "image/png")  # 406: not remembered
    assert CachedContentNegotiation.cache == {}
