"""The host-side records a filter leaves behind: logs, metrics, local responses, outgoing calls,
plus the manual clock and the state VMs share (shared data with CAS, shared queues)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from wasmbuild.host.pairs import Pair

MetricKind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class LogRecord:
    """One line the filter logged (proxy_log, or WASI stdout/stderr at info/error)."""

    level: str  # trace | debug | info | warn | error | critical
    message: str
    context_id: int = 0


@dataclass
class Metric:
    name: str
    kind: MetricKind
    value: int = 0
    samples: list[int] = field(default_factory=list)  # histogram values, in order recorded


@dataclass(frozen=True)
class LocalResponse:
    """What proxy_send_local_response asked the proxy to send instead of the upstream's answer."""

    status: int
    body: bytes
    headers: tuple[Pair, ...]
    details: str
    grpc_status: int | None  # None when the filter passed -1 (no grpc-status)


@dataclass(frozen=True)
class HttpCallResponse:
    """A scripted answer to proxy_http_call. `failed=True` delivers a failure (no headers)."""

    status: int = 200
    headers: tuple[Pair, ...] = ()
    body: bytes = b""
    trailers: tuple[Pair, ...] = ()
    failed: bool = False

    def header_pairs(self) -> list[Pair]:
        """The response headers as delivered: `:status` first unless the script set it."""
        if self.failed:
            return []
        pairs = list(self.headers)
        if not any(k == b":status" for k, _ in pairs):
            pairs.insert(0, (b":status", str(self.status).encode()))
        return pairs


@dataclass
class HttpCall:
    """One proxy_http_call the filter made."""

    token: int
    upstream: str
    headers: list[Pair]
    body: bytes
    trailers: list[Pair]
    timeout_ms: int
    context_id: int  # the context that made the call
    root_context_id: int  # the context the response is delivered to
    response: HttpCallResponse | None = None

    @property
    def answered(self) -> bool:
        return self.response is not None


@dataclass(frozen=True)
class GrpcResponse:
    """A scripted answer to proxy_grpc_call: status 0 delivers `message`, else a close."""

    message: bytes = b""
    status: int = 0
    status_message: str = ""
    initial_metadata: tuple[Pair, ...] = ()
    trailing_metadata: tuple[Pair, ...] = ()


@dataclass
class GrpcCall:
    """One proxy_grpc_call or proxy_grpc_stream the filter opened."""

    token: int
    upstream: str
    service: str
    method: str
    initial_metadata: list[Pair]
    message: bytes  # the request message (unary calls)
    timeout_ms: int
    context_id: int
    root_context_id: int
    streaming: bool = False
    sent: list[bytes] = field(default_factory=list)  # proxy_grpc_send messages (streams)
    half_closed: bool = False
    cancelled: bool = False
    closed: bool = False
    response: GrpcResponse | None = None


@dataclass
class ManualClock:
    """The host's clock: it only moves when told to, so ticks and timestamps are reproducible.

    `realtime_ns` (proxy_get_current_time_nanoseconds, WASI REALTIME) starts at the wall-clock
    time the clock was made unless given; `monotonic_ns` (WASI MONOTONIC) starts at 1 s.
    """

    realtime_ns: int = field(default_factory=time.time_ns)
    monotonic_ns: int = 1_000_000_000

    def advance_ns(self, ns: int) -> None:
        if ns < 0:
            raise ValueError("the clock cannot go backwards")
        self.realtime_ns += ns
        self.monotonic_ns += ns


@dataclass
class SharedQueue:
    queue_id: int
    vm_id: str
    name: str
    owner: Callable[[int], None]  # notifies the owning VM that the queue has data
    items: deque[bytes] = field(default_factory=deque)


class SharedState:
    """Shared data (key/value with CAS) and shared queues, keyed by VM id as in Envoy.

    Filters loaded with the same SharedState see each other's data and queues, like several
    plugins in one Envoy process.
    """

    def __init__(self) -> None:
        self.data: dict[tuple[str, bytes], tuple[bytes, int]] = {}
        self.queues: dict[int, SharedQueue] = {}
        self._queue_names: dict[tuple[str, str], int] = {}
        self._next_cas = 1
        self._next_queue = 1
        self.woken: list[Callable[[], None]] = []
        self._flushing = False

    # -- cross-VM delivery -----------------------------------------------------------------------
    def wake(self, drain: Callable[[], None]) -> None:
        """Ask for `drain` (a VM's event loop) to run once the VM that is running now is idle."""
        if drain not in self.woken:
            self.woken.append(drain)

    def flush(self) -> None:
        """Run the event loops of VMs that another VM's enqueue woke up."""
        if self._flushing:
            return
        self._flushing = True
        try:
            while self.woken:
                self.woken.pop(0)()
        finally:
            self._flushing = False

    # -- shared data ----------------------------------------------------------------------------
    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None:
        return self.data.get((vm_id, key))

    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> bool:
        """Store `value`; False (CAS mismatch) when `cas` is non-zero and not the current one."""
        current = self.data.get((vm_id, key))
        if cas and current is not None and current[1] != cas:
            return False
        self.data[(vm_id, key)] = (value, self._take_cas())
        return True

    def _take_cas(self) -> int:
        cas = self._next_cas
        self._next_cas = self._next_cas + 1 if self._next_cas < 0xFFFFFFFF else 1
        return cas

    # -- queues ---------------------------------------------------------------------------------
    def register_queue(self, vm_id: str, name: str, owner: Callable[[int], None]) -> int:
        existing = self._queue_names.get((vm_id, name))
        if existing is not None:
            self.queues[existing].owner = owner
            return existing
        queue_id = self._next_queue
        self._next_queue += 1
        self.queues[queue_id] = SharedQueue(queue_id, vm_id, name, owner)
        self._queue_names[(vm_id, name)] = queue_id
        return queue_id

    def resolve_queue(self, vm_id: str, name: str) -> int | None:
        return self._queue_names.get((vm_id, name))

    def enqueue(self, queue_id: int, value: bytes) -> bool:
        queue = self.queues.get(queue_id)
        if queue is None:
            return False
        queue.items.append(value)
        queue.owner(queue_id)
        return True

    def dequeue(self, queue_id: int) -> bytes | None:
        """The oldest item; raises KeyError for an unknown queue; None when it is empty."""
        queue = self.queues[queue_id]
        return queue.items.popleft() if queue.items else None
