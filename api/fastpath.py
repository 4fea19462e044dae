"""Deliberate overrides of Django and adrf internals on the API's hot path (issue 11, item 4).

Measured in `benchmarks/PROFILE.md`: with Django's own ASGI handler an API request cost 13–17 ms
of server CPU, about a quarter of it in thread hops (`sync_to_async` per middleware hook, per
signal, per `initial()`, plus a new thread per request for the `ThreadSensitiveContext`). With
the first three overrides and the aiohttp transport it cost about 5 ms, 3 ms after the later
rounds and ~1.5 ms after Step 2's second round (with `common.transport`, the async database
statements and the garbage-collection tuning). Each one is a copy or a change of framework
code, so each names the framework source it relies on or shadows in `GUARDED_SOURCES` with the
SHA-256 of that source at the pinned version:
`api/tests/test_fastpath.py` fails when an upgrade changes any of them, and then the override
must be read again against the new source before its digest is updated.

- `ApiHandler`: Django's `ASGIHandler` for the API paths only (`coronacheck.asgi` routes them
  here): the middleware chain without the admin's middleware, the pure hooks of
  `INLINE_MIDDLEWARE` called inline (`InlineHooks`), and the request signals, `response.close()`
  and DRF's rendering run in the event loop; the request is processed in the server's task, with
  only the disconnect listener as a task of its own (Django makes two tasks per request).
- `InlineHooks`: `MiddlewareMixin.__acall__` without its two `sync_to_async` hops, the
  consecutive inline middlewares as one level of the chain.
- `APIView`: adrf's `APIView.async_dispatch` with `initial()` inline instead of in a thread, and
  `dispatch` without adrf's per-request `view_is_async` check (every API view is async; checked
  once per class); `initial()` without the permission and throttle checks of a view that has
  none of those classes, and the parsers and the `Allow`/`Vary` headers made once per class
  (benchmarks/PROFILE.md, Step 2, fifth round).
- `CachedContentNegotiation`: DRF's content negotiation, its answer remembered per `Accept`
  header and format (a bounded cache of a pure function).
- `ApiHandler.resolve_request`: the URL resolution of each API path, remembered.
- `ApiHandler.send_response`: a response in one body message without Django's per-header
  checks and copies.
- `ApiHandler.read_body`: a body in one message that fits in memory is a `BytesIO`, not
  Django's spooled temporary file.
- The request signals are sent only when a receiver other than Django's per-thread database and
  cache resets is connected (`ApiHandler`).
- `_cycles_break`: once a request is answered, the references DRF and Django make between the
  view, DRF's request and the response are dropped, so that reference counting frees them and the
  garbage collector has nothing to do per request.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import weakref
from collections.abc import Callable
from typing import IO, Any, cast

from adrf.views import APIView as AdrfAPIView
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.core.handlers.exception import convert_exception_to_response, response_for_exception
from django.db import close_old_connections, reset_queries
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import ResolverMatch, URLResolver, get_resolver, set_script_prefix
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from common.asgitypes import Receive, Scope, Send

# The framework code each override copies or changes, with the SHA-256 of its source
# (`inspect.getsource`) at the pinned versions (Django 5.2.19, adrf 0.1.14, DRF as pinned).
GUARDED_SOURCES = {
    "django.core.handlers.asgi.ASGIHandler.handle": "98faeb5bef800331e6a8002fbc96b30e4122a23438ae45a047190a531ea11323",
    "django.core.handlers.base.BaseHandler._get_response_async": (
        "064b55bfd55fc38d1157dfe3997f9d675392168da4d48cbed33d8fb0c4930aea"
    ),
    "django.core.handlers.base.BaseHandler.load_middleware": "a1fb7ee5f8586195da2174d1bbc2bbfc7ca19b9d26ea66412cb434f45bf6d467",
    "django.core.handlers.exception.convert_exception_to_response": (
        "a297ae868bddaca2e7a82847cb707105b2a23ded927d6609f6832901db45758e"
    ),
    "django.utils.deprecation.MiddlewareMixin.__acall__": "adf8cbcaf9f11e45c4ac1953556ac422f2a6fe4193df5edbed186b2b66bea729",
    "adrf.views.APIView.async_dispatch": "5926f734eb685633df0c80f431d70f15451e7c57b464fec59295c94db9b10718",
    "adrf.views.APIView.dispatch": "9c4624488df6fc08cbd300ad8a2726a376eb032bb62716d065a8a27b76e4d241",
    "django.core.handlers.asgi.ASGIHandler.read_body": "cf4aa904631d5410206f1a6b12ef0c74e99e4bd7313232c8e61f7a09a66a95e1",
    "django.core.handlers.asgi.ASGIHandler.send_response": "77eda2b08689b44ee277c936092bde02e50f84727f7398480a127e7e9e1dad06",
    "django.core.handlers.asgi.ASGIHandler.chunk_bytes": "6c045731cd77bd2da8253e0a55f1d1e8c9c6c78f412f73a4592d5df5dfb6a6ad",
    # `send_response` reads the headers as the `str`s these keep.
    "django.http.response.ResponseHeaders.__setitem__": "ec78a9c6b2bc2b8ca0b4a2b096b28b82481d836f35938da180806d2590bc1c14",
    "django.http.response.ResponseHeaders._convert_to_charset": (
        "7f988dada70f15e8a2ab99f2f48f31fca8eb6190761a30427607a3ca5f7bf144"
    ),
    "django.core.handlers.base.BaseHandler.resolve_request": "ff178c3d63eebcd3e38110341593518dcd67d84cff94bbc7dd5aa323637cba6d",
    "django.http.response.HttpResponseBase.close": "84589f5b23acbb23aa9010f3506ef411b72b1053f2fc2764590e2b3bf3470438",
    # `api.renderers.JSONRenderer` remembers what these work out.
    "rest_framework.renderers.JSONRenderer.get_indent": "713a4f302bafaa8aa64eff5d7e409c06eec61e67abf7818811870ee5b1faec6a",
    "rest_framework.renderers.JSONRenderer.render": "9a136d750c0b09d1c9c98f290caf9e8aac99872dcc1e93bf14d7fcf47f8f5ab1",
    "rest_framework.negotiation.DefaultContentNegotiation.select_renderer": (
        "72af66a971aff0d3dd3a9c0a6065f3ed35e6679f4d386bb222b76778bfddb708"
    ),
    # The references `_cycles_break` drops are made here.
    "rest_framework.views.APIView.get_renderer_context": "c20dffd1da9bbe1960cdfbe67212c11e8bd3ee175e0f4ed767f9d8d9717852ab",
    "rest_framework.views.APIView.finalize_response": "cbcaead2dd2d71f61babc3f292746d9f3db84f0aeb116c3316fd31b1a44e20b0",
    "rest_framework.request.Request.__init__": "b1a5b4832249bb314d303c6f4e1bbd7d99154c06d64faf211308344b41e4a968",
    # `APIView.initial` calls `_not_authenticated()` for what these do without authenticators.
    "rest_framework.views.APIView.perform_authentication": "37dd6c883a68a5842a34429018ccbe55758aebc82b11fde9503b7cad77f5ad01",
    "adrf.requests.AsyncRequest.user.fget": "1fcba9aec943efc494d1c11693b35d7889239e2b60a9fcf2ab6b21d66330e788",
    "adrf.requests.AsyncRequest._authenticate": "3a3b56dd7c515e93189a037e07c6ec8ccb5a918728245b3b3f96adbb20319d50",
    "rest_framework.request.Request._not_authenticated": "161d9c59bd6cfe3bd8df2efa36ae58c22225469f2b288d2bc619892a38366c04",
    "django.views.generic.base.View.setup": "929dcb75314be459617745f2d7360b6f5ca118a94d6622f27b042bb17334477f",
    # `APIView.initial`, `get_parsers` and `default_response_headers` shadow these.
    "rest_framework.views.APIView.initial": "49a4a966fb04ec8a617151a306a0e96f05c13991745058126fe78b13385a4df5",
    "rest_framework.views.APIView.get_parsers": "f673d708a8817f2c333cc3a46b7f2368c65239e0f0cdde2aa83ca0331747b07d",
    "rest_framework.views.APIView.default_response_headers.fget": (
        "fdea21d29a3b5350642494699f700d3af112cc1da33a8a965d74dac732a761b0"
    ),
    "django.views.generic.base.View._allowed_methods": "1992a9ca745565e18e909432ffd154658f172cc7cc02143c329c7e85eefac02a",
}


# Static files, sessions, logins, CSRF, messages and the history user serve the admin only: the API handler
# leaves them out (API views are CSRF-exempt and use neither sessions nor users).
ADMIN_ONLY_MIDDLEWARE = frozenset(
    {
        "servestatic.middleware.ServeStaticMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "simple_history.middleware.HistoryRequestMiddleware",
        "coronacheck.staff.StaffContentSecurityPolicyMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)
# Security headers, Content-Length and X-Frame-Options: hooks without I/O, run inline.
INLINE_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
)


class InlineHooks:
    """Runs the `process_request` and `process_response` hooks of one or more `MiddlewareMixin`s
    (outermost first) in the event loop, as one level of the middleware chain.

    Django calls both through `sync_to_async` for async requests (a thread hop each); for the
    `INLINE_MIDDLEWARE`, which only read settings and headers, that hop is pure overhead. The
    order of calls is that of `MiddlewareMixin.__acall__` in Django's chain, where each middleware
    is a level of its own wrapped by `convert_exception_to_response`: a hook that returns a
    response stops the descent and its own `process_response` still runs; one that raises becomes
    the response of `response_for_exception` in its place, and that middleware's
    `process_response` does not run; the middlewares outside it go on as usual. As one level
    rather than one per middleware: each level is a coroutine that every resumption of the
    request goes through (~2 µs per request each, benchmarks/PROFILE.md)."""

    async_capable = True
    sync_capable = False

    def __init__(self, middleware_classes: list[type[MiddlewareMixin]], get_response: Callable[..., Any]) -> None:
        middlewares = [middleware_class(get_response) for middleware_class in middleware_classes]
        # Each middleware's two hooks (None where it has none), looked up once.
        self.hooks = [
            (getattr(middleware, "process_request", None), getattr(middleware, "process_response", None))
            for middleware in middlewares
        ]
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        entered = 0  # the middlewares whose `process_response` runs, counted from the outside
        for process_request, _ in self.hooks:
            try:
                response = process_request(request) if process_request is not None else None
            except Exception as exc:
                response = await _exception_response(request, exc)
                break
            entered += 1
            if response:  # as `MiddlewareMixin.__acall__`: `response or await get_response(...)`
                break
        if not response:
            response = await self.get_response(request)
        for _, process_response in reversed(self.hooks[:entered]):
            if process_response is not None:
                try:
                    response = process_response(request, response)
                except Exception as exc:
                    response = await _exception_response(request, exc)
        return response


async def _exception_response(request: HttpRequest, exc: Exception) -> HttpResponseBase:
    """What `convert_exception_to_response` answers for `exc`."""
    return await sync_to_async(response_for_exception, thread_sensitive=False)(request, exc)


# Receivers of the request signals that reset per-thread database connections, query logs,
# caches and the URLconf: the API's event-loop thread opens no connection or cache (database
# work goes through `common.db.run_db`, which closes its connection itself) and each request sets
# its URLconf afresh, in its own task's context, so for the API they do nothing.
THREAD_STATE_RECEIVERS = frozenset({reset_queries, close_old_connections, close_caches, reset_urlconf})


def _has_own_receivers(signal: Signal) -> bool:
    """Whether `signal` has a receiver that is not one of `THREAD_STATE_RECEIVERS`."""
    for _key, reference, _is_async in signal.receivers:
        receiver = reference() if isinstance(reference, weakref.ReferenceType) else reference
        if receiver is not None and receiver not in THREAD_STATE_RECEIVERS:
            return True
    return False


def _cycles_break(response: HttpResponseBase) -> None:
    """Drop the references that make each DRF request a reference cycle, once it is answered: the
    view holds DRF's request, the response and (for a GET view) its own bound `get` as `head`,
    the response's `renderer_context` holds the view and the request, and the request's
    `parser_context` holds the request itself. Without them, reference counting frees a request's
    objects at once; with them, the garbage collector found ~35 objects per request
    (`benchmarks/inprocess.py --garbage`), and the collections they set off (one per ~300
    requests) paused the event loop for milliseconds each."""
    context = vars(response).get("renderer_context")
    if not context:
        return
    drf_request, view = context.get("request"), context.get("view")
    if drf_request is not None and getattr(drf_request, "parser_context", None):
        drf_request.parser_context.clear()
    if view is not None:
        vars(view).clear()  # also `head`, Django's `View.setup` binds `get` to the view itself
    context.clear()


def _response_close(response: HttpResponseBase) -> None:
    """`HttpResponseBase.close()`; it sends `request_finished` only when that has own receivers."""
    if _has_own_receivers(signals.request_finished):
        response.close()
        return
    closers: list[Callable[[], object]] = vars(response)["_resource_closers"]  # not in the stubs
    for closer in closers:
        try:
            closer()
        except Exception:
            pass
    closers.clear()
    response.closed = True


class ApiHandler(ASGIHandler):
    """Django's ASGI handler for the API paths, without the thread hops that cost most of a
    request's CPU. Same URL resolution, views, async middleware and signals; the differences:

    - the middleware chain is `settings.MIDDLEWARE` without `ADMIN_ONLY_MIDDLEWARE`, with the
      `INLINE_MIDDLEWARE` hooks called inline (`InlineHooks`);
    - `request_started`, `request_finished` (sent by `response.close()`) and DRF's JSON
      rendering run inline: their receivers only reset per-thread database state, and API code
      never opens a connection in the event loop thread (all database work goes through
      `common.db.run_db`, which returns its connection itself).
    """

    def load_middleware(self, is_async: bool = True) -> None:
        self.resolved: dict[str, ResolverMatch] = {}
        self.resolved_by: URLResolver | None = None
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response_async)
        inline: list[type[MiddlewareMixin]] = []  # consecutive inline middlewares, innermost first
        for path in reversed(settings.MIDDLEWARE):
            if path in ADMIN_ONLY_MIDDLEWARE:
                continue
            middleware = import_string(path)
            if path in INLINE_MIDDLEWARE:
                inline.append(middleware)
                continue
            if inline:
                handler = convert_exception_to_response(InlineHooks(inline[::-1], handler))
                inline = []
            if getattr(middleware, "async_capable", False) and not getattr(middleware, "sync_capable", True):
                instance = middleware(handler)
            else:
                raise TypeError(f"{path} must be async-only, or listed in ADMIN_ONLY_ or INLINE_MIDDLEWARE")
            handler = convert_exception_to_response(instance)
        if inline:
            handler = convert_exception_to_response(InlineHooks(inline[::-1], handler))
        self._middleware_chain = handler

    async def read_body(self, receive: Receive) -> IO[bytes]:
        """`ASGIHandler.read_body`, but a body that comes in one message and fits in memory
        (`FILE_UPLOAD_MAX_MEMORY_SIZE`, as Django's spooled file would keep it) is a `BytesIO`:
        every API request's body does, and the spooled file cost ~6 µs per request to make, fill
        and close. A longer body, or one in several messages, goes to Django's own."""
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body = message.get("body", b"")
            if len(body) <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
                return io.BytesIO(body)
        first = [message]

        async def replayed() -> Any:
            return first.pop() if first else await receive()

        return await super().read_body(replayed)

    async def send_response(self, response: HttpResponseBase, send: Send) -> None:
        """`ASGIHandler.send_response` for a response that is neither streamed nor sets cookies
        and whose body fits in one message (`chunk_size`), as every API response: the same two
        messages, without the per-header type checks and copies (the headers are `str`s, as
        `ResponseHeaders` keeps them) and without the chunking generator. Others go to Django's."""
        if response.streaming or response.cookies:
            await super().send_response(response, send)
            return
        content = cast(HttpResponse, response).content
        if len(content) > self.chunk_size:
            await super().send_response(response, send)
            return
        headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        """`BaseHandler.resolve_request`, its answer remembered per path: the API's paths are a
        handful of fixed strings (`coronacheck.asgi.API_PATHS`) whose resolution never changes
        while the resolver does not (`get_resolver()` is a new one when `ROOT_URLCONF` changes or
        the URL caches are cleared; a per-request `request.urlconf` is resolved afresh)."""
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver = get_resolver()
        if resolver is not self.resolved_by:
            self.resolved, self.resolved_by = {}, resolver
        match = self.resolved.get(request.path_info)
        if match is None:
            match = super().resolve_request(request)
            if len(self.resolved) < 64:
                self.resolved[request.path_info] = match
        request.resolver_match = match
        return match

    async def _get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        callback, callback_args, callback_kwargs = self.resolve_request(request)
        callback = self.make_view_atomic(callback)
        if not iscoroutinefunction(callback):
            raise TypeError(f"API views must be async: {request.path}")
        response = await callback(request, *callback_args, **callback_kwargs)
        self.check_response(response, callback)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`ASGIHandler.handle` with the signals and `response.close()` called inline, and the
        request processed in the server's own task. Django makes two tasks per request, one that
        processes it and one that listens for the client's disconnect, and waits for the first to
        finish; here only the listener is a task, and a disconnect cancels the processing as
        Django's does. One task and one `asyncio.wait` less per request, and an answer that needs
        no I/O (`/health` from its cache) is sent in the step that read the request."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        if _has_own_receivers(signals.request_started):
            signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            assert error_response is not None  # Django returns one or the other
            await self.send_response(error_response, send)
            error_response.close()
            return

        processing = asyncio.current_task()
        assert processing is not None  # a request is always handled in a task
        watch = _DisconnectWatch()

        async def listen() -> None:
            try:
                await self.listen_for_disconnect(receive)
            except (RequestAborted, AssertionError) as exc:
                if not watch.finished:
                    watch.reason = exc
                    processing.cancel()

        listener = asyncio.create_task(listen())
        response: HttpResponseBase | None = None
        try:
            response = await self.run_get_response(request)
            await self.send_response(response, send)
        except asyncio.CancelledError:
            if watch.reason is None or processing.cancelling() > 1:
                raise  # cancelled from outside (shutdown), perhaps besides the disconnect
        finally:
            watch.finished = True
            listener.cancel()
            if watch.reason is not None:
                processing.uncancel()  # the cancellation was ours, and it has been handled
            body_file.close()
        if isinstance(watch.reason, AssertionError):
            raise watch.reason  # an invalid ASGI message after the body, as Django raises it
        if response is not None:
            _response_close(response)  # also when the client left while the response was sent
            _cycles_break(response)
        elif _has_own_receivers(signals.request_finished):
            signals.request_finished.send(sender=self.__class__)


class _DisconnectWatch:
    """What `ApiHandler.handle`'s disconnect listener saw: whether the request was finished, and
    the disconnect (or invalid message) that cancelled its processing."""

    __slots__ = ("finished", "reason")

    def __init__(self) -> None:
        self.finished = False
        self.reason: BaseException | None = None


# adrf's `APIView`, but `initial()` (content negotiation, versioning, and the authentication,
# permission and throttle checks) and DRF's sync 405 and OPTIONS handlers run inline rather than
# through `sync_to_async`, so no API request hops to a thread of its own. The API
# configures none of those classes, so `initial()` does no I/O; a view that adds any gets adrf's
# behaviour back. (A comment, not a docstring: drf-spectacular would publish a docstring as the
# description of every operation.)
#
# With none of those classes, `initial()` leaves out the permission and throttle checks, which
# then have nothing to check; the parser instances (stateless) and the `Allow`/`Vary` headers,
# which depend only on the class, its method names and its renderers, are made once per class
# rather than per request.
class APIView(AdrfAPIView):
    _parsers: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None  # (classes, instances)
    _default_headers: dict[tuple[Any, ...], dict[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.view_is_async:  # adrf asks this on every request; the API asks once
            raise ImproperlyConfigured(f"{cls.__qualname__}: API views must be async")
        cls._parsers = None
        cls._default_headers = {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return self.async_dispatch(request, *args, **kwargs)

    def get_parsers(self) -> Any:
        if "parser_classes" in vars(self):  # given to `as_view`: this view's own
            return super().get_parsers()
        cls = type(self)
        if cls._parsers is None or cls._parsers[0] != tuple(cls.parser_classes):
            cls._parsers = (tuple(cls.parser_classes), tuple(super().get_parsers()))
        return list(cls._parsers[1])

    @property
    def default_response_headers(self) -> dict[str, str]:
        key = (tuple(self.http_method_names), len(self.renderer_classes), "head" in vars(self))
        headers = type(self)._default_headers.get(key)
        if headers is None:
            headers = type(self)._default_headers[key] = super().default_response_headers
        return dict(headers)  # `finalize_response` pops `Vary` from it

    def _checks_configured(self) -> bool:
        """Whether the view has authentication, permission or throttle classes (then adrf's and
        DRF's own dispatch and `initial()` run)."""
        return bool(self.authentication_classes or self.permission_classes or self.throttle_classes)

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if self._checks_configured():
            super().initial(request, *args, **kwargs)
            return
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        # `perform_authentication` without authenticators: `request.user` runs `_authenticate()`,
        # which finds none and calls `_not_authenticated()` (the user and auth of
        # UNAUTHENTICATED_USER/_TOKEN, on Django's request too); called here without the
        # property's error wrapper and the empty loop. A forced authentication (DRF's test
        # tools) or an own `perform_authentication` goes DRF's way.
        if request.authenticators or type(self).perform_authentication is not AdrfAPIView.perform_authentication:
            self.perform_authentication(request)
        else:
            request._not_authenticated()

    async def async_dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self._checks_configured():
            return await super().async_dispatch(request, *args, **kwargs)
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            method = (request.method or "").lower()
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, *args, **kwargs)
            else:  # 405 and OPTIONS: DRF's own sync handlers, pure (adrf would hop to a thread)
                response = cast(Callable[..., Any], handler)(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response
