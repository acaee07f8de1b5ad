"""Shared data with CAS, shared queues (within one filter and across filters), metrics."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load, wat_filter
from wasmbuild.testing import SharedState, load_filter

SHARED = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $proxy_get_shared_data <<key>> (i32.const 0) (i32.const 4) (i32.const 8)))
  (call $say_int (call $proxy_set_shared_data <<key>> <<one>> (i32.const 0)))
  (call $say_int (call $proxy_get_shared_data <<key>> (i32.const 0) (i32.const 4) (i32.const 8)))
  (call $say_out (i32.const 0) (i32.const 4))
  (i32.store (i32.const 12) (i32.load (i32.const 8)))
  ;; a stale CAS loses, the current one wins
  (call $say_int (call $proxy_set_shared_data <<key>> <<two>> (i32.add (i32.load (i32.const 12)) (i32.const 7))))
  (call $say_int (call $proxy_set_shared_data <<key>> <<two>> (i32.load (i32.const 12))))
  (call $say_int (call $proxy_set_shared_data <<key>> <<one>> (i32.load (i32.const 12))))
  (call $say_int (call $proxy_get_shared_data <<key>> (i32.const 0) (i32.const 4) (i32.const 8)))
  (call $say_out (i32.const 0) (i32.const 4))
  (i32.const 0))
"""


def test_shared_data_compare_and_swap() -> None:
    f = load(SHARED, strings={"key": "counter", "one": "1", "two": "2"})
    f.http_stream().send_request_headers()
    # NOT_FOUND, OK, OK "1", CAS_MISMATCH, OK, CAS_MISMATCH (the CAS moved on), OK "2"
    assert f.log_messages() == ["1", "0", "0", "1", "8", "0", "8", "0", "2"]
    assert f.shared_data("counter") == b"2"


def test_filters_with_the_same_shared_state_and_vm_id_share_data() -> None:
    shared = SharedState()
    writer = load(SHARED, strings={"key": "k", "one": "1", "two": "2"}, shared=shared, vm_id="vm")
    writer.http_stream().send_request_headers()
    reader = load(SHARED, strings={"key": "k", "one": "1", "two": "2"}, shared=shared, vm_id="vm")
    assert reader.shared_data("k") == b"2"
    other_vm = load(SHARED, strings={"key": "k", "one": "1", "two": "2"}, shared=shared, vm_id="other")
    assert other_vm.shared_data("k") is None


QUEUE = HELPERS + """
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (call $say_int (call $proxy_register_shared_queue <<queue>> (i32.const 200)))
  (call $say_int (i32.load (i32.const 200)))
  (i32.const 1))
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $proxy_resolve_shared_queue <<vm>> <<queue>> (i32.const 204)))
  (call $say_int (call $proxy_enqueue_shared_queue (i32.load (i32.const 204)) <<item>>))
  (call $say_int (call $proxy_enqueue_shared_queue (i32.const 99) <<item>>))
  (call $say_int (call $proxy_resolve_shared_queue <<vm>> <<other>> (i32.const 204)))
  (i32.const 0))
(func (export "proxy_on_queue_ready") (param $root i32) (param $queue i32)
  (call $say <<ready>>) (call $say_int (local.get $root)) (call $say_int (local.get $queue))
  (loop $drain
    (if (i32.eqz (call $proxy_dequeue_shared_queue (local.get $queue) (i32.const 0) (i32.const 4)))
      (then (call $say_out (i32.const 0) (i32.const 4)) (br $drain))))
  (call $say_int (call $proxy_dequeue_shared_queue (local.get $queue) (i32.const 0) (i32.const 4)))
  (call $say_int (call $proxy_dequeue_shared_queue (i32.const 99) (i32.const 0) (i32.const 4))))
"""
QUEUE_STRINGS = {"queue": "jobs", "vm": "", "item": "job-1", "other": "nope", "ready": "ready"}


def test_queues_register_resolve_enqueue_and_notify_after_the_callback() -> None:
    f = load(QUEUE, strings=QUEUE_STRINGS)
    assert f.log_messages() == ["0", "1"]
    f.http_stream().send_request_headers()
    # resolve OK, enqueue OK, unknown queue NOT_FOUND, unknown name NOT_FOUND; then the
    # notification: root 1, queue 1, the item, EMPTY, NOT_FOUND
    assert f.log_messages()[2:] == ["0", "0", "1", "1", "ready", "1", "1", "job-1", "7", "1"]


def test_a_test_can_feed_a_queue_like_another_vm() -> None:
    f = load(QUEUE, strings=QUEUE_STRINGS)
    f.enqueue("jobs", "from-the-test")
    assert f.log_messages()[2:] == ["ready", "1", "1", "from-the-test", "7", "1"]


def test_an_enqueue_from_one_filter_wakes_the_owner_filter() -> None:
    shared = SharedState()
    owner = load(QUEUE, strings=QUEUE_STRINGS, shared=shared)
    producer_body = HELPERS + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_resolve_shared_queue <<vm>> <<queue>> (i32.const 204)))
      (call $say_int (call $proxy_enqueue_shared_queue (i32.load (i32.const 204)) <<item>>))
      (i32.const 0))
    """
    producer = load_filter(wat_filter(producer_body, strings=QUEUE_STRINGS), shared=shared)
    producer.http_stream().send_request_headers()
    assert producer.log_messages() == ["0"]
    assert owner.log_messages()[2:] == ["ready", "1", "1", "job-1", "7", "1"]


METRICS = HELPERS + """
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (drop (call $proxy_define_metric (i32.const 0) <<counter>> (i32.const 300)))
  (drop (call $proxy_define_metric (i32.const 1) <<gauge>> (i32.const 304)))
  (drop (call $proxy_define_metric (i32.const 2) <<histogram>> (i32.const 308)))
  (call $say_int (call $proxy_define_metric (i32.const 3) <<counter>> (i32.const 312)))
  (i32.const 1))
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $proxy_increment_metric (i32.load (i32.const 300)) (i64.const 2)))
  (call $say_int (call $proxy_increment_metric (i32.load (i32.const 300)) (i64.const -1)))
  (call $say_int (call $proxy_record_metric (i32.load (i32.const 300)) (i64.const 10)))
  (call $say_int (call $proxy_record_metric (i32.load (i32.const 304)) (i64.const 50)))
  (call $say_int (call $proxy_increment_metric (i32.load (i32.const 304)) (i64.const -8)))
  (call $say_int (call $proxy_record_metric (i32.load (i32.const 308)) (i64.const 7)))
  (call $say_int (call $proxy_record_metric (i32.load (i32.const 308)) (i64.const 9)))
  (call $say_int (call $proxy_increment_metric (i32.load (i32.const 308)) (i64.const 1)))
  (call $say_int (call $proxy_get_metric (i32.load (i32.const 300)) (i32.const 320)))
  (call $say_int (i32.load (i32.const 320)))
  (call $say_int (call $proxy_get_metric (i32.load (i32.const 304)) (i32.const 320)))
  (call $say_int (i32.load (i32.const 320)))
  (call $say_int (call $proxy_get_metric (i32.load (i32.const 308)) (i32.const 320)))
  (call $say_int (call $proxy_get_metric (i32.const 404) (i32.const 320)))
  (i32.const 0))
"""


def test_metrics_follow_envoys_rules() -> None:
    f = load(METRICS, strings={"counter": "requests", "gauge": "in_flight", "histogram": "latency_ms"})
    f.http_stream().send_request_headers()
    assert f.log_messages() == ["2",  # type 3 does not exist
                                "0", "2", "0",  # counter +2; -1 refused; record adds 10
                                "0", "0",  # gauge set 50, then -8
                                "0", "0", "2",  # histogram records; increment refused
                                "0", "12", "0", "42", "2", "1"]  # get: counter, gauge, histogram refused, unknown
    assert f.metrics == {"requests": 12, "in_flight": 42, "latency_ms": [7, 9]}


def test_a_filter_that_feeds_itself_forever_fails_instead_of_hanging() -> None:
    from wasmbuild.testing import CallbackFailure

    # every notification enqueues another item: Envoy would spin; the host stops it
    body = QUEUE.replace("(call $say <<ready>>)",
                         "(drop (call $proxy_enqueue_shared_queue (local.get $queue) <<item>>))")
    f = load(body, strings=QUEUE_STRINGS)
    with pytest.raises(CallbackFailure, match="more than 10,000 async events") as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "event-loop"
