"""Root (plugin) contexts and HTTP stream contexts: the state each proxy_on_* call acts on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wasmbuild.host.pairs import HeaderMap
from wasmbuild.host.state import LocalResponse

Action = Literal["continue", "pause"]
Direction = Literal["request", "response"]


class Body:
    """One direction's body: what already went on (`forwarded`) and what is buffered now.

    The size passed to proxy_on_*_body and what proxy_get_buffer_bytes sees is the buffered
    part; it grows while the filter keeps pausing and is flushed when a body callback continues.
    """

    __slots__ = ("buffered", "forwarded", "seen")

    def __init__(self) -> None:
        self.buffered = bytearray()
        self.forwarded = bytearray()
        self.seen = False

    def flush(self) -> None:
        self.forwarded += self.buffered
        self.buffered = bytearray()

    def content(self) -> bytes | None:
        """Everything the filter let through or still holds, as it left it; None if no body."""
        if not self.seen and not self.forwarded and not self.buffered:
            return None
        return bytes(self.forwarded + self.buffered)


@dataclass
class RootContext:
    """A plugin (root) context: owns ticks, outgoing calls and their responses."""

    id: int
    root_id: str
    tick_period_ms: int = 0
    next_tick_ns: int | None = None
    done_pending: bool = False
    deleted: bool = False
    status: tuple[int, bytes] = (0, b"")  # what proxy_get_status reports
    # set only while proxy_on_http_call_response runs (maps 6/7, buffer 4)
    http_call_headers: HeaderMap | None = None
    http_call_trailers: HeaderMap | None = None
    http_call_body: bytes | None = None
    grpc_initial_metadata: HeaderMap | None = None
    grpc_trailing_metadata: HeaderMap | None = None
    grpc_receive_buffer: bytes | None = None
    foreign_arguments: bytes | None = None
    properties: dict[tuple[bytes, ...], bytes] = field(default_factory=dict)

    @property
    def root(self) -> RootContext:
        return self


@dataclass
class HttpContext:
    """One HTTP stream as the filter sees it, updated by the host calls it makes."""

    id: int
    root: RootContext
    request_headers: HeaderMap | None = None
    request_trailers: HeaderMap | None = None
    response_headers: HeaderMap | None = None
    response_trailers: HeaderMap | None = None
    request_body: Body = field(default_factory=Body)
    response_body: Body = field(default_factory=Body)
    request_action: Action | None = None
    response_action: Action | None = None
    local_response: LocalResponse | None = None
    local_response_in_callback: bool = False
    closed: set[str] = field(default_factory=set)  # directions reset by proxy_close_stream
    end_of_stream: bool = False  # of the current body callback (trailers may be added then)
    phase: Direction = "request"
    log_phase: bool = False
    done: bool = False
    done_pending: bool = False
    deleted: bool = False
    route_cache_cleared: int = 0
    resumed_in_callback: bool = False
    properties: dict[tuple[bytes, ...], bytes] = field(default_factory=dict)

    def resume(self, direction: Direction) -> None:
        """proxy_continue_stream: the paused direction goes on."""
        if direction == self.phase:
            self.resumed_in_callback = True
        if direction == "request":
            self.request_action = "continue"
            self.request_body.flush()
        else:
            self.response_action = "continue"
            self.response_body.flush()


Context = RootContext | HttpContext
