"""api/fastpath.py: the API paths go through the lean `ApiHandler`, which must answer exactly as
Django's full handler does (same status, headers and body), only without thread hops; and every
framework source the overrides copy or change is still the one they were written against."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import inspect
import io

import pytest
from adrf.views import APIView as AdrfAPIView
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, RequestAborted, SuspiciousOperation
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.test import override_settings
from django.urls import Resolver404, path
from django.utils.deprecation import MiddlewareMixin
from rest_framework.request import Request
from rest_framework.response import Response

from api import apis
from api.fastpath import GUARDED_SOURCES, ApiHandler, APIView, InlineHooks, _has_own_receivers
from coronacheck import asgi
from devtools.testing.asgi_client import asgi_request, http_scope
from devtools.testing.guards import framework_object, source_digest

pytestmark = pytest.mark.django_db(transaction=True)


async def call(app, method: str, path: str, body: bytes = b"", headers: tuple = ()) -> tuple[int, dict, bytes]:
    request_headers = [(b"host", b"localhost"), (b"x-request-id", b"test-request"), *headers]
    status, raw_headers, content = await asgi_request(app, method, path, body, request_headers)
    return status, {name.decode().lower(): value.decode() for name, value in raw_headers}, content


def test_api_paths_take_the_lean_handler():
    assert {"/health", "/app/print/", "/app/credentials/", "/app/prepare_issue/"} <= asgi.API_PATHS
    assert "/admin/" not in asgi.API_PATHS and "/openapi.json" not in asgi.API_PATHS


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/health", b""),
        ("POST", "/app/print/", b'{"events": []}'),
        ("POST", "/app/credentials/", b"{"),
        ("GET", "/app/print/", b""),  # 405
        ("OPTIONS", "/app/credentials/", b""),
    ],
)
async def test_the_lean_handler_answers_as_the_full_handler(method, path, body):
    headers = ((b"content-type", b"application/json"),)
    lean = await call(asgi.application, method, path, body, headers)
    full = await call(asgi.django_application, method, path, body, headers)
    assert lean[0] == full[0]
    assert lean[1] == full[1]
    assert "x-content-type-options" in lean[1] and lean[1]["x-frame-options"] == "DENY"
    assert lean[1]["content-length"] == str(len(lean[2]))
    if path != "/health":  # the health body carries no timing, but keep it simple: compare the rest
        assert lean[2] == full[2]


async def test_other_paths_keep_the_full_stack():
    status, headers, _ = await call(asgi.application, "POST", "/app/print", b"{}")
    assert status == 307 and headers["location"] == "/app/print/"
    status, _, _ = await call(asgi.application, "GET", "/admin/login/")
    assert status == 200


def test_a_sync_only_middleware_is_refused_by_the_lean_handler():
    with override_settings(MIDDLEWARE=["django.middleware.gzip.GZipMiddleware"]):
        with pytest.raises(TypeError, match="GZipMiddleware"):
            ApiHandler()


@pytest.mark.parametrize("dotted", sorted(GUARDED_SOURCES))
def test_the_overridden_framework_source_is_unchanged(dotted):
    """A failure means the pinned framework changed this code: read the override in
    api/fastpath.py again against the new source, then update its digest."""
    assert source_digest(dotted) == GUARDED_SOURCES[dotted], dotted


def test_the_guard_sees_a_change():
    source = inspect.getsource(framework_object("django.core.handlers.asgi.ASGIHandler.handle"))
    changed = source.replace("await", "await ", 1)
    assert hashlib.sha256(changed.encode()).hexdigest() != GUARDED_SOURCES["django.core.handlers.asgi.ASGIHandler.handle"]


def test_api_views_must_be_async():
    with pytest.raises(ImproperlyConfigured, match="must be async"):

        class SyncView(APIView):
            def post(self, request):  # pragma: no cover - never called
                return None


def test_only_the_thread_state_resets_listen_to_the_request_signals_by_default():
    assert not _has_own_receivers(signals.request_started)
    assert not _has_own_receivers(signals.request_finished)


async def test_own_receivers_of_the_request_signals_are_still_called():
    heard: list[str] = []

    def started(**kwargs):
        heard.append("started")

    def finished(**kwargs):
        heard.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        assert _has_own_receivers(signals.request_started) and _has_own_receivers(signals.request_finished)
        status, _, _ = await call(asgi.application, "POST", "/app/credentials/", b"{", ((b"content-type", b"application/json"),))
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert status == 422
    assert heard == ["started", "finished"]


urlpatterns: list = []  # an empty URLconf for the test below


class RequestStub:
    def __init__(self, path: str) -> None:
        self.path_info = path


def test_the_remembered_resolution_follows_the_urlconf():
    """`ApiHandler.resolve_request` remembers a path's match only for the resolver it came from."""
    handler = ApiHandler()
    first = handler.resolve_request(RequestStub("/app/print/"))
    assert handler.resolve_request(RequestStub("/app/print/")) is first
    with override_settings(ROOT_URLCONF="api.tests.test_fastpath"):
        with pytest.raises(Resolver404):
            handler.resolve_request(RequestStub("/app/print/"))
    again = handler.resolve_request(RequestStub("/app/print/"))
    assert again is not first and again.func is first.func


class SlowApi(APIView):
    """A view that works until it is cancelled, and notes what happened to it."""

    started: asyncio.Event
    outcome: list[str]
    task: asyncio.Task | None = None

    async def get(self, request):
        SlowApi.task = asyncio.current_task()
        SlowApi.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            SlowApi.outcome.append("cancelled")
            raise
        return Response({})


class SlowUrls:
    urlpatterns = [path("slow", SlowApi.as_view())]


@pytest.fixture
def slow_api():
    SlowApi.started, SlowApi.outcome, SlowApi.task = asyncio.Event(), [], None


def client_receive(left: asyncio.Event):
    """The ASGI `receive` of a client that sent a request without a body, and disconnects once
    `left` is set."""
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if incoming:
            return incoming.pop()
        await left.wait()
        return {"type": "http.disconnect"}

    return receive


def slow_scope() -> dict:
    return http_scope("GET", "/slow", [(b"host", b"localhost")])


@override_settings(ROOT_URLCONF=SlowUrls)
async def test_a_disconnect_cancels_the_work_on_the_request_and_only_that(slow_api):
    """The request is processed in the caller's task (no task of its own): the client's disconnect
    cancels the view, `handle` returns normally with nothing sent, the task is not left
    cancelled, and no task of the handler is left behind."""
    left = asyncio.Event()
    sent: list[dict] = []
    receive = client_receive(left)

    async def send(message: dict) -> None:
        sent.append(message)

    async def client_leaves() -> None:
        await SlowApi.started.wait()
        left.set()

    before = asyncio.all_tasks()
    leaving = asyncio.create_task(client_leaves())
    await ApiHandler().handle(slow_scope(), receive, send)
    await leaving
    assert SlowApi.outcome == ["cancelled"]
    assert sent == []
    current = asyncio.current_task()
    assert SlowApi.task is current  # processed in the caller's task
    assert current is not None and current.cancelling() == 0
    await asyncio.sleep(0)  # the listener's own cancellation is delivered
    assert asyncio.all_tasks() == before


@override_settings(ROOT_URLCONF=SlowUrls)
async def test_a_cancellation_from_outside_is_not_taken_for_a_disconnect(slow_api):
    receive = client_receive(asyncio.Event())  # the client stays

    async def send(message: dict) -> None:
        raise AssertionError("nothing is sent")

    handling = asyncio.create_task(ApiHandler().handle(slow_scope(), receive, send))
    await SlowApi.started.wait()
    handling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handling
    assert SlowApi.outcome == ["cancelled"]


async def test_an_answered_request_leaves_no_task_behind():
    body, headers = b"{", ((b"content-type", b"application/json"),)
    await call(asgi.application, "POST", "/app/credentials/", body, headers)  # starts the background tasks
    await asyncio.sleep(0)
    before = asyncio.all_tasks()
    status, _, _ = await call(asgi.application, "POST", "/app/credentials/", body, headers)
    await asyncio.sleep(0)
    assert status == 422
    assert asyncio.all_tasks() == before


@override_settings(ROOT_URLCONF=SlowUrls)
async def test_an_outside_cancellation_together_with_a_disconnect_is_not_swallowed(slow_api):
    left = asyncio.Event()
    receive = client_receive(left)

    async def send(message: dict) -> None:
        raise AssertionError("nothing is sent")

    handling = asyncio.create_task(ApiHandler().handle(slow_scope(), receive, send))
    await SlowApi.started.wait()
    left.set()  # the listener cancels the processing at its next step ...
    await asyncio.sleep(0)
    handling.cancel()  # ... and so does the server's shutdown, before the processing ran again
    with pytest.raises(asyncio.CancelledError):
        await handling
    assert SlowApi.outcome == ["cancelled"]


def _request_garbage() -> list[str]:
    """The request, response and view objects the last `gc.collect()` found only in reference
    cycles (kept by `gc.DEBUG_SAVEALL`)."""
    kinds = (HttpRequest, HttpResponseBase, Request, APIView)
    return sorted({type(item).__qualname__ for item in gc.garbage if isinstance(item, kinds)})


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/health", b"", 200),
        ("POST", "/documentation/V2Event/", b"{}", 422),
        ("POST", "/app/print/", b'{"events": []}', 401),
        ("GET", "/app/print/", b"", 405),
    ],
)
async def test_an_answered_request_leaves_no_reference_cycle(method, path, body, status):
    """Reference counting frees each request's objects (`api.fastpath._cycles_break`): DRF ties
    the view, its request and the response into cycles, which the garbage collector had to find."""
    headers = ((b"content-type", b"application/json"),)
    await call(asgi.application, method, path, body, headers)  # first-use caches and pools
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        answered = await call(asgi.application, method, path, body, headers)
        gc.collect()
        garbage = _request_garbage()
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert answered[0] == status
    assert garbage == []


API_VIEWS = [view for view in vars(apis).values() if isinstance(view, type) and issubclass(view, APIView) and view is not APIView]


@pytest.mark.parametrize("view_class", sorted(API_VIEWS, key=lambda view: view.__name__))
def test_the_per_class_parts_of_a_request_are_drfs(view_class, rf):
    """`APIView.default_response_headers` and `get_parsers`, made once per class, are what DRF
    makes per request, for a first and a later view, with and without `head` (GET views)."""
    for _ in range(2):
        view = view_class()
        view.setup(rf.get("/"))
        expected = AdrfAPIView.default_response_headers.fget(view)
        assert view.default_response_headers == expected
        assert view.default_response_headers is not view.default_response_headers  # `finalize_response` pops from it
        assert [type(parser) for parser in view.get_parsers()] == list(view.parser_classes)


async def test_a_request_is_authenticated_as_drf_does_it():
    """`initial()` leaves out the empty permission and throttle checks only: the user is DRF's
    unauthenticated one, on DRF's request and on Django's."""
    seen = {}

    class WhoApi(APIView):
        async def get(self, request):
            seen["user"], seen["auth"] = request._user, request._auth  # set before any read
            seen["django"] = (request._request.user, request._request.auth)
            return Response({})

    class WhoUrls:
        urlpatterns = [path("who", WhoApi.as_view())]

    with override_settings(ROOT_URLCONF=WhoUrls):
        status, _, _ = await call(ApiHandler(), "GET", "/who")
    assert status == 200
    assert seen == {"user": None, "auth": None, "django": (None, None)}  # UNAUTHENTICATED_USER and _TOKEN are None

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser

    drf = {**settings.REST_FRAMEWORK, "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser"}
    with override_settings(ROOT_URLCONF=WhoUrls, REST_FRAMEWORK=drf):
        status, _, _ = await call(ApiHandler(), "GET", "/who")
    assert status == 200
    assert isinstance(seen["user"], AnonymousUser) and seen["django"][0] is seen["user"]
    assert seen["auth"] is None and seen["django"][1] is None


async def test_a_forced_authentication_is_drfs():
    from rest_framework.test import APIRequestFactory, force_authenticate

    seen = {}

    class WhoApi(APIView):
        async def get(self, request):
            seen["user"], seen["django"] = request.user, request._request.user
            return Response({})

    user = object()
    request = APIRequestFactory().get("/who")
    force_authenticate(request, user=user)
    response = await WhoApi.as_view()(request)
    assert response.status_code == 200
    assert seen == {"user": user, "django": user}


def messages_receive(*messages: dict):
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0)

    return receive


@pytest.mark.parametrize(
    ("messages", "in_memory"),
    [
        ([{"type": "http.request", "body": b'{"events": []}', "more_body": False}], True),
        ([{"type": "http.request"}], True),
        ([{"type": "http.request", "body": b'{"ev', "more_body": True}, {"type": "http.request", "body": b'ents": []}'}], False),
        ([{"type": "http.request", "body": b"x" * 2000, "more_body": False}], False),  # over the memory limit
    ],
)
@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=1000)
async def test_a_body_is_read_whole_in_one_message_or_several(messages, in_memory):
    body_file = await ApiHandler().read_body(messages_receive(*messages))
    expected = b"".join(message.get("body", b"") for message in messages)
    assert body_file.read() == expected
    assert isinstance(body_file, io.BytesIO) is in_memory
    body_file.close()


async def test_a_client_that_leaves_before_its_body_aborts_the_request():
    with pytest.raises(RequestAborted):
        await ApiHandler().read_body(messages_receive({"type": "http.disconnect"}))
    with pytest.raises(RequestAborted):
        await ApiHandler().read_body(
            messages_receive({"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"})
        )


def recording_middleware(name: str, log: list, fail: dict):
    """A `MiddlewareMixin` that logs its hooks and, per `fail[(name, hook)]`, answers early
    ("answer") or raises ("raise") there."""

    class Recording(MiddlewareMixin):
        def process_request(self, request):
            log.append(f"{name}.request")
            return self._act("process_request", request)

        def process_response(self, request, response):
            log.append(f"{name}.response:{response.status_code}")
            return self._act("process_response", request) or response

        def _act(self, hook, request):
            action = fail.get((name, hook))
            if action == "answer":
                return HttpResponse(status=299)
            if action == "raise":
                raise PermissionDenied(name)
            return None

    Recording.__name__ = name
    return Recording


SCENARIOS = [
    {},
    {("B", "process_request"): "answer"},
    {("B", "process_request"): "raise"},
    {("A", "process_request"): "raise"},
    {("C", "process_request"): "raise", ("A", "process_response"): "answer"},
    {("B", "process_response"): "raise"},
    {("C", "process_response"): "raise", ("A", "process_response"): "raise"},
    {("view", ""): "raise"},
]


@pytest.mark.parametrize("fail", SCENARIOS)
async def test_grouped_inline_hooks_run_as_djangos_nested_middleware(fail, rf):
    """Three middlewares as one `InlineHooks` level: the same hooks in the same order and the same
    answer as Django's chain of `MiddlewareMixin`s, each wrapped by `convert_exception_to_response`."""

    async def run(grouped: bool) -> tuple[list, int]:
        log: list = []
        classes = [recording_middleware(name, log, fail) for name in "ABC"]

        async def view(request):
            log.append("view")
            if fail.get(("view", "")):
                raise SuspiciousOperation("view")
            return HttpResponse(status=200)

        handler = convert_exception_to_response(view)
        if grouped:
            handler = convert_exception_to_response(InlineHooks(classes, handler))
        else:
            for middleware_class in reversed(classes):
                handler = convert_exception_to_response(middleware_class(handler))
        response = await handler(rf.get("/"))
        return log, response.status_code

    assert await run(grouped=True) == await run(grouped=False)


def responses_to_send() -> list[HttpResponseBase]:
    from django.http import StreamingHttpResponse

    plain = HttpResponse(b'{"a": 1}', content_type="application/json", status=201)
    plain["X-Request-Id"] = "abc"
    plain["X-Latin"] = "caf\u00e9"  # latin-1
    plain[b"X-Bytes"] = b"value"  # Django keeps names and values as `str`
    plain["X-Encoded"] = "\u20ac uro"  # MIME-encoded by Django
    with_cookie = HttpResponse(b"x")
    with_cookie.set_cookie("name", "value")
    return [
        plain,
        HttpResponse(b""),
        HttpResponse(status=204),
        HttpResponse(b"x" * ApiHandler.chunk_size),
        HttpResponse(b"y" * (ApiHandler.chunk_size + 1)),  # two body messages: Django's
        with_cookie,
        StreamingHttpResponse(parts()),
    ]


async def parts():
    for part in (b"a", b"b"):
        yield part


@pytest.mark.parametrize("index", range(len(responses_to_send())))
async def test_a_response_is_sent_as_djangos_handler_sends_it(index):
    from django.core.handlers.asgi import ASGIHandler

    sent: dict[str, list[dict]] = {"lean": [], "django": []}
    for name, handler in (("lean", ApiHandler), ("django", ASGIHandler)):
        response = responses_to_send()[index]

        async def send(message: dict, name: str = name) -> None:
            sent[name].append(message)

        await handler.send_response(handler.__new__(handler), response, send)
    assert sent["lean"] == sent["django"]
    assert all(type(name) is bytes and type(value) is bytes for name, value in sent["lean"][0]["headers"])
