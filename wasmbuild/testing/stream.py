"""HttpStream: one HTTP stream through a loaded filter."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from wasmbuild.host import lifecycle, properties
from wasmbuild.host.contexts import HttpContext
from wasmbuild.host.pairs import to_bytes
from wasmbuild.host.state import HttpCall, LocalResponse
from wasmbuild.testing.headers import (
    DEFAULT_REQUEST_PAIRS,
    DEFAULT_RESPONSE_PAIRS,
    Action,
    Headers,
    HeadersLike,
    headers_view,
    to_pairs,
)

if TYPE_CHECKING:
    from wasmbuild.testing.filter import Filter


class HttpStream:
    """One HTTP stream through the filter. Send each part in order; read what the filter did.

    Every ``send_*`` method calls the matching ``proxy_on_*`` callback and returns its action
    (``"continue"`` or ``"pause"``); a pause is recorded, not waited on, so a test can go on and
    check what the filter does next (``request_action`` tells whether it resumed since).
    """

    def __init__(self, filter: Filter, context: HttpContext) -> None:
        self._filter = filter
        self._ctx = context

    @property
    def id(self) -> int:
        """The stream's context id (the root context is 1, streams count up from 2)."""
        return self._ctx.id

    # -- driving -------------------------------------------------------------------------------
    def send_request_headers(self, headers: HeadersLike | None = None, *, end_of_stream: bool = False) -> Action:
        """proxy_on_request_headers; `headers` default to a GET / for localhost over http."""
        return lifecycle.send_headers(self._filter.vm, self._ctx, "request",
                                      to_pairs(headers, DEFAULT_REQUEST_PAIRS), end_of_stream)

    def send_request_body(self, body: str | bytes, *, end_of_stream: bool = True) -> Action:
        """proxy_on_request_body with this chunk (appended to what the filter is buffering)."""
        return lifecycle.send_body(self._filter.vm, self._ctx, "request", to_bytes(body), end_of_stream)

    def send_request_trailers(self, trailers: HeadersLike) -> Action:
        return lifecycle.send_trailers(self._filter.vm, self._ctx, "request", to_pairs(trailers))

    def send_response_headers(self, headers: HeadersLike | None = None, *, end_of_stream: bool = False) -> Action:
        """proxy_on_response_headers; `headers` default to ``:status: 200``."""
        return lifecycle.send_headers(self._filter.vm, self._ctx, "response",
                                      to_pairs(headers, DEFAULT_RESPONSE_PAIRS), end_of_stream)

    def send_response_body(self, body: str | bytes, *, end_of_stream: bool = True) -> Action:
        return lifecycle.send_body(self._filter.vm, self._ctx, "response", to_bytes(body), end_of_stream)

    def send_response_trailers(self, trailers: HeadersLike) -> Action:
        return lifecycle.send_trailers(self._filter.vm, self._ctx, "response", to_pairs(trailers))

    def run(self, request_headers: HeadersLike | None = None, request_body: str | bytes | None = None,
            response_headers: HeadersLike | None = None, response_body: str | bytes | None = None, *,
            request_trailers: HeadersLike | None = None, response_trailers: HeadersLike | None = None,
            finish: bool = True) -> HttpStream:
        """Send every part of the stream in order, then finish it (unless `finish` is False).

        Request headers (default: GET / for localhost), the body and trailers if given; then,
        unless the filter sent a local response, response headers (default ``:status: 200``),
        body and trailers. A pause does not stop the sequence: it is recorded in the actions.
        """
        last_request = request_body is None and request_trailers is None
        self.send_request_headers(request_headers, end_of_stream=last_request)
        if request_body is not None:
            self.send_request_body(request_body, end_of_stream=request_trailers is None)
        if request_trailers is not None:
            self.send_request_trailers(request_trailers)
        if self.local_response is None:
            last_response = response_body is None and response_trailers is None
            self.send_response_headers(response_headers, end_of_stream=last_response)
            if response_body is not None and self.local_response is None:
                self.send_response_body(response_body, end_of_stream=response_trailers is None)
            if response_trailers is not None and self.local_response is None:
                self.send_response_trailers(response_trailers)
        if finish:
            self.finish()
        return self

    def finish(self) -> None:
        """End the stream: proxy_on_log, proxy_on_done, proxy_on_delete (in the filter's order)."""
        lifecycle.finish_stream(self._filter.vm, self._ctx)

    def __enter__(self) -> HttpStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.finish()

    # -- what the filter left ------------------------------------------------------------------
    @property
    def request_headers(self) -> Headers:
        return headers_view(self._ctx.request_headers)

    @property
    def response_headers(self) -> Headers:
        return headers_view(self._ctx.response_headers)

    @property
    def request_trailers(self) -> Headers:
        return headers_view(self._ctx.request_trailers)

    @property
    def response_trailers(self) -> Headers:
        return headers_view(self._ctx.response_trailers)

    @property
    def request_body(self) -> bytes | None:
        """The request body as it leaves the filter (None if none was sent or set)."""
        return self._ctx.request_body.content()

    @property
    def response_body(self) -> bytes | None:
        return self._ctx.response_body.content()

    @property
    def request_action(self) -> Action | None:
        """The request direction's state: the last callback's action, or continue once resumed."""
        return self._ctx.request_action

    @property
    def response_action(self) -> Action | None:
        return self._ctx.response_action

    @property
    def local_response(self) -> LocalResponse | None:
        """The response the filter sent with proxy_send_local_response, if it did."""
        return self._ctx.local_response

    @property
    def closed(self) -> frozenset[str]:
        """Directions the filter reset with proxy_close_stream ("request", "response")."""
        return frozenset(self._ctx.closed)

    @property
    def finished(self) -> bool:
        return self._ctx.done

    @property
    def http_calls(self) -> list[HttpCall]:
        """HTTP calls made while this stream's context was current."""
        return [c for c in self._filter.vm.http_calls if c.context_id == self._ctx.id]

    def set_property(self, path: str, value: str | bytes | int | bool | Mapping[str, str]) -> None:
        """A property this stream's filter will read (e.g. ``"source.address"``)."""
        self._ctx.properties[properties.path_of(path)] = properties.encode_user_value(path, value)

    def __repr__(self) -> str:
        return f"<HttpStream {self.id} request={self.request_action} response={self.response_action}>"
