//! A test module for the bundled Rust SDK: every `probe_*` export calls one `hostcalls` wrapper
//! with fixed arguments and reports the wrapper's result (its `Debug` text) through the test
//! import `test.report`, so a recording host in Python can check both directions of the
//! marshalling. The contexts below exercise the dispatcher.

use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls as hc;
use proxy_wasm::traits::{Context, HttpContext, RootContext, StreamContext};
use proxy_wasm::types::*;

#[link(wasm_import_module = "test")]
extern "C" {
    fn report(data: *const u8, size: usize);
}

fn out(text: String) {
    unsafe { report(text.as_ptr(), text.len()) }
}

macro_rules! probe {
    ($name:ident, $call:expr) => {
        #[no_mangle]
        pub extern "C" fn $name() {
            out(format!("{:?}", $call));
        }
    };
}

const HEADERS: [(&str, &str); 3] = [(":method", "GET"), (":path", "/x"), (":authority", "upstream")];

probe!(probe_log, hc::log(LogLevel::Warn, "hello"));
probe!(probe_get_log_level, hc::get_log_level());
probe!(
    probe_get_current_time,
    hc::get_current_time().map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_nanos())
);
probe!(
    probe_set_tick_period,
    hc::set_tick_period(Duration::from_micros(1_500_900))
);
probe!(probe_get_buffer, hc::get_buffer(BufferType::HttpRequestBody, 3, 10));
probe!(
    probe_get_plugin_configuration,
    hc::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
);
probe!(
    probe_set_buffer,
    hc::set_buffer(BufferType::HttpResponseBody, 1, 2, b"xyz")
);
probe!(probe_get_map, hc::get_map(MapType::HttpRequestHeaders));
probe!(probe_get_map_bytes, hc::get_map_bytes(MapType::HttpResponseTrailers));
probe!(
    probe_set_map,
    hc::set_map(MapType::HttpRequestHeaders, vec![("a", "1"), ("b", "22")])
);
probe!(
    probe_set_map_bytes,
    hc::set_map_bytes(MapType::HttpRequestTrailers, vec![("k", &b"\xff\x00"[..])])
);
probe!(
    probe_get_map_value,
    hc::get_map_value(MapType::HttpResponseHeaders, "x-key")
);
probe!(
    probe_get_map_value_bytes,
    hc::get_map_value_bytes(MapType::HttpCallResponseHeaders, "k")
);
probe!(
    probe_set_map_value,
    hc::set_map_value(MapType::HttpRequestHeaders, "k", Some("v"))
);
probe!(
    probe_set_map_value_none,
    hc::set_map_value(MapType::HttpRequestTrailers, "k", None)
);
probe!(
    probe_set_map_value_bytes,
    hc::set_map_value_bytes(MapType::HttpResponseTrailers, "k", Some(b"\x01"))
);
probe!(
    probe_add_map_value,
    hc::add_map_value(MapType::HttpResponseHeaders, "k", "v")
);
probe!(
    probe_add_map_value_bytes,
    hc::add_map_value_bytes(MapType::GrpcReceiveInitialMetadata, "k", b"")
);
probe!(
    probe_remove_map_value,
    hc::remove_map_value(MapType::HttpCallResponseTrailers, "gone")
);
probe!(probe_get_property, hc::get_property(vec!["request", "path"]));
probe!(probe_set_property, hc::set_property(vec!["a", "b"], Some(b"v")));
probe!(probe_set_property_none, hc::set_property(vec!["a"], None));
probe!(probe_get_shared_data, hc::get_shared_data("key"));
probe!(
    probe_set_shared_data,
    hc::set_shared_data("key", Some(b"value"), Some(7))
);
probe!(probe_set_shared_data_none, hc::set_shared_data("key", None, None));
probe!(probe_register_shared_queue, hc::register_shared_queue("q"));
probe!(probe_resolve_shared_queue, hc::resolve_shared_queue("vm", "q"));
probe!(probe_dequeue_shared_queue, hc::dequeue_shared_queue(5));
probe!(probe_enqueue_shared_queue, hc::enqueue_shared_queue(5, Some(b"item")));
probe!(probe_resume_http_request, hc::resume_http_request());
probe!(probe_resume_http_response, hc::resume_http_response());
probe!(probe_resume_downstream, hc::resume_downstream());
probe!(probe_resume_upstream, hc::resume_upstream());
probe!(probe_reset_http_request, hc::reset_http_request());
probe!(probe_reset_http_response, hc::reset_http_response());
probe!(probe_close_downstream, hc::close_downstream());
probe!(probe_close_upstream, hc::close_upstream());
probe!(
    probe_send_http_response,
    hc::send_http_response(403, vec![("x", "y")], Some(b"denied"))
);
probe!(
    probe_send_http_response_empty,
    hc::send_http_response(204, vec![], None)
);
probe!(
    probe_send_grpc_response,
    hc::send_grpc_response(GrpcStatusCode::PermissionDenied, Some("no"), vec![("m", &b"v"[..])])
);
probe!(
    probe_dispatch_http_call,
    hc::dispatch_http_call(
        "cluster",
        HEADERS.to_vec(),
        Some(b"body"),
        vec![("t", "1")],
        Duration::from_secs(5)
    )
);
probe!(
    probe_dispatch_grpc_call,
    hc::dispatch_grpc_call(
        "grpc",
        "svc.S",
        "M",
        vec![("k", &b"v"[..])],
        Some(b"msg"),
        Duration::from_millis(250)
    )
);
probe!(
    probe_open_grpc_stream,
    hc::open_grpc_stream("grpc", "svc.S", "Stream", vec![])
);
probe!(
    probe_send_grpc_stream_message,
    hc::send_grpc_stream_message(9, Some(b"m"), true)
);
probe!(probe_cancel_grpc_call, hc::cancel_grpc_call(9));
probe!(probe_cancel_grpc_stream, hc::cancel_grpc_stream(10));
probe!(probe_close_grpc_stream, hc::close_grpc_stream(11));
probe!(probe_get_grpc_status, hc::get_grpc_status());
probe!(probe_set_effective_context, hc::set_effective_context(42));
probe!(
    probe_call_foreign_function,
    hc::call_foreign_function("fn", Some(b"args"))
);
probe!(probe_done, hc::done());
probe!(probe_define_metric, hc::define_metric(MetricType::Histogram, "m"));
probe!(probe_get_metric, hc::get_metric(3));
probe!(probe_record_metric, hc::record_metric(3, u64::MAX - 1));
probe!(probe_increment_metric, hc::increment_metric(3, -5));

// ------------------------------------------------------------------------- dispatcher probes

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Debug);
    proxy_wasm::set_root_context(|context_id| -> Box<dyn RootContext> { Box::new(ProbeRoot { context_id }) });
    proxy_wasm::set_http_context(|context_id, root_context_id| -> Box<dyn HttpContext> {
        Box::new(ProbeHttp { context_id, root_context_id })
    });
}}

struct ProbeRoot {
    context_id: u32,
}

impl Context for ProbeRoot {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body: usize, trailers: usize) {
        out(format!(
            "root {} call response {} {} {} {}",
            self.context_id, token, headers, body, trailers
        ));
    }
}

impl RootContext for ProbeRoot {
    fn on_vm_start(&mut self, size: usize) -> bool {
        out(format!(
            "root {} vm_start {} {:?}",
            self.context_id,
            size,
            self.get_vm_configuration()
        ));
        true
    }

    fn on_configure(&mut self, size: usize) -> bool {
        out(format!(
            "root {} configure {} {:?}",
            self.context_id,
            size,
            self.get_plugin_configuration()
        ));
        size != 13
    }

    fn on_tick(&mut self) {
        out(format!("root {} tick", self.context_id));
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        out(format!("root {} queue {}", self.context_id, queue_id));
    }
}

struct ProbeHttp {
    context_id: u32,
    root_context_id: u32,
}

impl Context for ProbeHttp {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body: usize, trailers: usize) {
        out(format!(
            "http {} call response {} {} {} {} {:?} {:?}",
            self.context_id,
            token,
            headers,
            body,
            trailers,
            self.get_http_call_response_headers(),
            self.get_http_call_response_body(0, body).map(String::from_utf8),
        ));
        self.resume_http_request();
    }

    fn on_done(&mut self) -> bool {
        out(format!("http {} done", self.context_id));
        true
    }
}

impl HttpContext for ProbeHttp {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        proxy_wasm::trace!("not sent: below the level set in main");
        proxy_wasm::debug!(
            "http {} of root {}: {} headers, end {}",
            self.context_id,
            self.root_context_id,
            num_headers,
            end_of_stream
        );
        if !end_of_stream {
            return Action::Continue;
        }
        match self.dispatch_http_call("auth", HEADERS.to_vec(), None, vec![], Duration::from_secs(1)) {
            Ok(token) => out(format!("http {} dispatched {}", self.context_id, token)),
            Err(status) => out(format!("http {} dispatch failed {:?}", self.context_id, status)),
        }
        Action::Pause
    }

    fn on_http_response_headers(&mut self, num_headers: usize, _end_of_stream: bool) -> Action {
        if num_headers == 99 {
            panic!("boom in context {}", self.context_id);
        }
        self.set_http_response_header("x-probe", Some(&self.context_id.to_string()));
        Action::Continue
    }

    fn on_log(&mut self) {
        out(format!("http {} log", self.context_id));
    }
}

// -------------------------------------------------------------------- trait default methods

/// A context that overrides nothing: every accessor is the SDK's default.
struct Defaults;

impl Context for Defaults {}
impl RootContext for Defaults {}
impl StreamContext for Defaults {}
impl HttpContext for Defaults {}

/// Reports each default method's name, then calls it: the host sees which call it makes.
macro_rules! defaults {
    ($context:ident, $($name:ident => $call:expr;)*) => {
        #[no_mangle]
        pub extern "C" fn probe_trait_defaults() {
            #[allow(unused_mut)]
            let mut $context = Defaults;
            $(
                out(String::from(stringify!($name)));
                let _ = $call;
            )*
        }
    };
}

const SECOND: Duration = Duration::from_secs(1);

defaults! { d,
    get_current_time => d.get_current_time();
    get_property => d.get_property(vec!["p"]);
    set_property => d.set_property(vec!["p"], Some(b"v"));
    get_shared_data => d.get_shared_data("k");
    set_shared_data => d.set_shared_data("k", Some(b"v"), None);
    remove_shared_data => d.remove_shared_data("k", Some(3));
    register_shared_queue => d.register_shared_queue("q");
    resolve_shared_queue => d.resolve_shared_queue("vm", "q");
    dequeue_shared_queue => d.dequeue_shared_queue(1);
    enqueue_shared_queue => d.enqueue_shared_queue(1, Some(b"x"));
    dispatch_http_call => d.dispatch_http_call("c", HEADERS.to_vec(), None, vec![], SECOND);
    get_http_call_response_headers => d.get_http_call_response_headers();
    get_http_call_response_headers_bytes => d.get_http_call_response_headers_bytes();
    get_http_call_response_header => d.get_http_call_response_header("h");
    get_http_call_response_header_bytes => d.get_http_call_response_header_bytes("h");
    get_http_call_response_body => d.get_http_call_response_body(0, 10);
    get_http_call_response_trailers => d.get_http_call_response_trailers();
    get_http_call_response_trailers_bytes => d.get_http_call_response_trailers_bytes();
    get_http_call_response_trailer => d.get_http_call_response_trailer("t");
    get_http_call_response_trailer_bytes => d.get_http_call_response_trailer_bytes("t");
    dispatch_grpc_call => d.dispatch_grpc_call("g", "s", "m", vec![], None, SECOND);
    get_grpc_call_response_body => d.get_grpc_call_response_body(0, 10);
    cancel_grpc_call => d.cancel_grpc_call(1);
    open_grpc_stream => d.open_grpc_stream("g", "s", "m", vec![]);
    get_grpc_stream_initial_metadata => d.get_grpc_stream_initial_metadata();
    get_grpc_stream_initial_metadata_value => d.get_grpc_stream_initial_metadata_value("k");
    send_grpc_stream_message => d.send_grpc_stream_message(1, None, false);
    get_grpc_stream_message => d.get_grpc_stream_message(0, 10);
    get_grpc_stream_trailing_metadata => d.get_grpc_stream_trailing_metadata();
    get_grpc_stream_trailing_metadata_value => d.get_grpc_stream_trailing_metadata_value("k");
    cancel_grpc_stream => d.cancel_grpc_stream(1);
    close_grpc_stream => d.close_grpc_stream(1);
    get_grpc_status => d.get_grpc_status();
    call_foreign_function => d.call_foreign_function("f", None);
    done => d.done();
    get_vm_configuration => d.get_vm_configuration();
    get_plugin_configuration => d.get_plugin_configuration();
    set_tick_period => d.set_tick_period(SECOND);
    get_downstream_data => d.get_downstream_data(0, 10);
    set_downstream_data => d.set_downstream_data(0, 1, b"x");
    resume_downstream => d.resume_downstream();
    close_downstream => d.close_downstream();
    get_upstream_data => d.get_upstream_data(0, 10);
    set_upstream_data => d.set_upstream_data(0, 1, b"x");
    resume_upstream => d.resume_upstream();
    close_upstream => d.close_upstream();
    get_http_request_headers => d.get_http_request_headers();
    get_http_request_headers_bytes => d.get_http_request_headers_bytes();
    set_http_request_headers => d.set_http_request_headers(vec![("a", "b")]);
    set_http_request_headers_bytes => d.set_http_request_headers_bytes(vec![("a", &b"b"[..])]);
    get_http_request_header => d.get_http_request_header("a");
    get_http_request_header_bytes => d.get_http_request_header_bytes("a");
    set_http_request_header => d.set_http_request_header("a", Some("b"));
    set_http_request_header_bytes => d.set_http_request_header_bytes("a", Some(b"b"));
    add_http_request_header => d.add_http_request_header("a", "b");
    add_http_request_header_bytes => d.add_http_request_header_bytes("a", b"b");
    remove_http_request_header => d.remove_http_request_header("a");
    get_http_request_body => d.get_http_request_body(0, 10);
    set_http_request_body => d.set_http_request_body(0, 1, b"x");
    get_http_request_trailers => d.get_http_request_trailers();
    get_http_request_trailers_bytes => d.get_http_request_trailers_bytes();
    set_http_request_trailers => d.set_http_request_trailers(vec![("a", "b")]);
    set_http_request_trailers_bytes => d.set_http_request_trailers_bytes(vec![("a", &b"b"[..])]);
    get_http_request_trailer => d.get_http_request_trailer("a");
    get_http_request_trailer_bytes => d.get_http_request_trailer_bytes("a");
    set_http_request_trailer => d.set_http_request_trailer("a", Some("b"));
    set_http_request_trailer_bytes => d.set_http_request_trailer_bytes("a", Some(b"b"));
    add_http_request_trailer => d.add_http_request_trailer("a", "b");
    add_http_request_trailer_bytes => d.add_http_request_trailer_bytes("a", b"b");
    remove_http_request_trailer => d.remove_http_request_trailer("a");
    resume_http_request => d.resume_http_request();
    reset_http_request => d.reset_http_request();
    get_http_response_headers => d.get_http_response_headers();
    get_http_response_headers_bytes => d.get_http_response_headers_bytes();
    set_http_response_headers => d.set_http_response_headers(vec![("a", "b")]);
    set_http_response_headers_bytes => d.set_http_response_headers_bytes(vec![("a", &b"b"[..])]);
    get_http_response_header => d.get_http_response_header("a");
    get_http_response_header_bytes => d.get_http_response_header_bytes("a");
    set_http_response_header => d.set_http_response_header("a", Some("b"));
    set_http_response_header_bytes => d.set_http_response_header_bytes("a", Some(b"b"));
    add_http_response_header => d.add_http_response_header("a", "b");
    add_http_response_header_bytes => d.add_http_response_header_bytes("a", b"b");
    remove_http_response_header => d.remove_http_response_header("a");
    get_http_response_body => d.get_http_response_body(0, 10);
    set_http_response_body => d.set_http_response_body(0, 1, b"x");
    get_http_response_trailers => d.get_http_response_trailers();
    get_http_response_trailers_bytes => d.get_http_response_trailers_bytes();
    set_http_response_trailers => d.set_http_response_trailers(vec![("a", "b")]);
    set_http_response_trailers_bytes => d.set_http_response_trailers_bytes(vec![("a", &b"b"[..])]);
    get_http_response_trailer => d.get_http_response_trailer("a");
    get_http_response_trailer_bytes => d.get_http_response_trailer_bytes("a");
    set_http_response_trailer => d.set_http_response_trailer("a", Some("b"));
    set_http_response_trailer_bytes => d.set_http_response_trailer_bytes("a", Some(b"b"));
    add_http_response_trailer => d.add_http_response_trailer("a", "b");
    add_http_response_trailer_bytes => d.add_http_response_trailer_bytes("a", b"b");
    remove_http_response_trailer => d.remove_http_response_trailer("a");
    resume_http_response => d.resume_http_response();
    reset_http_response => d.reset_http_response();
    send_http_response => d.send_http_response(500, vec![], None);
    send_grpc_response => d.send_grpc_response(GrpcStatusCode::Internal, None, vec![]);
}
