//! Routes the module's exported callbacks (`proxy_on_*`) to the filter's context objects.
//!
//! State is thread-local (a proxy-wasm VM is single-threaded). A context is taken out of its
//! map while its callback runs, so a callback can make any host call, and even a host that
//! re-enters the module for another context, without tripping over a held borrow.

use std::cell::{Cell, RefCell};
use std::hash::{BuildHasherDefault, Hasher};

use crate::hostcalls;
use crate::logger;
use crate::traits::{Context, HttpContext, RootContext, StreamContext};
use crate::types::*;

/// Context ids and tokens come from the host, so there is nothing to defend against with a
/// randomly keyed hash: a fixed one saves a `random_get` import, a syscall and code size.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of u32 keys: spreads small sequential ids over the high bits the map uses.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0 ^ u64::from(value)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[derive(Default)]
struct Dispatcher {
    new_root: Cell<Option<NewRootContext>>,
    new_stream: Cell<Option<NewStreamContext>>,
    new_http: Cell<Option<NewHttpContext>>,
    roots: RefCell<HashMap<u32, Box<dyn RootContext>>>,
    streams: RefCell<HashMap<u32, Box<dyn StreamContext>>>,
    https: RefCell<HashMap<u32, Box<dyn HttpContext>>>,
    /// The context whose callback is running: the owner of callouts it starts.
    active_id: Cell<u32>,
    http_callouts: RefCell<HashMap<u32, u32>>,
    grpc_callouts: RefCell<HashMap<u32, u32>>,
    grpc_streams: RefCell<HashMap<u32, u32>>,
}

thread_local! {
    static DISPATCHER: Dispatcher = Dispatcher::default();
}

/// The root used when the filter registers no root factory.
struct NoopRoot;
impl Context for NoopRoot {}
impl RootContext for NoopRoot {}

pub(crate) fn set_root_context(factory: NewRootContext) {
    DISPATCHER.with(|d| d.new_root.set(Some(factory)));
}

pub(crate) fn set_stream_context(factory: NewStreamContext) {
    DISPATCHER.with(|d| d.new_stream.set(Some(factory)));
}

pub(crate) fn set_http_context(factory: NewHttpContext) {
    DISPATCHER.with(|d| d.new_http.set(Some(factory)));
}

pub(crate) fn register_http_callout(token: u32) {
    DISPATCHER.with(|d| d.http_callouts.borrow_mut().insert(token, d.active_id.get()));
}

pub(crate) fn register_grpc_callout(token: u32) {
    DISPATCHER.with(|d| d.grpc_callouts.borrow_mut().insert(token, d.active_id.get()));
}

pub(crate) fn register_grpc_stream(token: u32) {
    DISPATCHER.with(|d| d.grpc_streams.borrow_mut().insert(token, d.active_id.get()));
}

fn set_active(context_id: u32) {
    DISPATCHER.with(|d| d.active_id.set(context_id));
}

// Taking a context out and putting it back are kept out of line (and non-generic): every
// callback export uses them, and inlining them into each one would double the module's size.
// `$with` runs a callback on the context `context_id`: `None` if there is no such context.

macro_rules! take_and_put {
    ($take:ident, $put:ident, $with:ident, $field:ident, $trait:ident) => {
        #[inline(never)]
        fn $take(context_id: u32) -> Option<Box<dyn $trait>> {
            DISPATCHER.with(|d| d.$field.borrow_mut().remove(&context_id))
        }

        #[inline(never)]
        fn $put(context_id: u32, context: Box<dyn $trait>) {
            DISPATCHER.with(|d| d.$field.borrow_mut().insert(context_id, context));
        }

        fn $with<R>(context_id: u32, f: impl FnOnce(&mut dyn $trait) -> R) -> Option<R> {
            let mut context = $take(context_id)?;
            let result = f(&mut *context);
            $put(context_id, context);
            Some(result)
        }
    };
}

take_and_put!(take_root, put_root, with_root, roots, RootContext);
take_and_put!(take_stream, put_stream, with_stream, streams, StreamContext);
take_and_put!(take_http, put_http, with_http, https, HttpContext);

/// A context of any kind, taken out of its map.
enum Taken {
    Root(Box<dyn RootContext>),
    Stream(Box<dyn StreamContext>),
    Http(Box<dyn HttpContext>),
}

#[inline(never)]
fn take_any(context_id: u32) -> Option<Taken> {
    if let Some(context) = take_http(context_id) {
        Some(Taken::Http(context))
    } else if let Some(context) = take_stream(context_id) {
        Some(Taken::Stream(context))
    } else {
        take_root(context_id).map(Taken::Root)
    }
}

#[inline(never)]
fn put_any(context_id: u32, taken: Taken) {
    match taken {
        Taken::Root(context) => put_root(context_id, context),
        Taken::Stream(context) => put_stream(context_id, context),
        Taken::Http(context) => put_http(context_id, context),
    }
}

/// Runs `$body` on whichever context `$id` names (HTTP, then stream, then root), through the
/// `Context` methods they share; `None` if there is no such context.
macro_rules! with_any {
    ($id:expr, |$ctx:ident| $body:expr) => {{
        let id = $id;
        match take_any(id) {
            None => None,
            Some(mut taken) => {
                let result = match &mut taken {
                    Taken::Http($ctx) => $body,
                    Taken::Stream($ctx) => $body,
                    Taken::Root($ctx) => $body,
                };
                put_any(id, taken);
                Some(result)
            }
        }
    }};
}

fn unknown(callback: &str, context_id: u32) {
    logger::log_message(
        LogLevel::Error,
        &format!(
            "proxy-wasm: {} for unknown context id {}: ignored",
            callback, context_id
        ),
    );
}

/// Switches the host to `owner` before an asynchronous callback, as the callout's owner may
/// not be the context the host names. False (and logged) if the host refuses.
fn switch_to(owner: u32) -> bool {
    set_active(owner);
    match hostcalls::set_effective_context(owner) {
        Ok(()) => true,
        Err(status) => {
            logger::log_message(
                LogLevel::Error,
                &format!("proxy-wasm: set_effective_context({}) failed: {:?}", owner, status),
            );
            false
        }
    }
}

fn action(result: Option<Action>, callback: &str, context_id: u32) -> u32 {
    match result {
        Some(action) => action as u32,
        None => {
            unknown(callback, context_id);
            Action::Continue as u32
        }
    }
}

fn flag(result: Option<bool>, callback: &str, context_id: u32) -> u32 {
    match result {
        Some(value) => value as u32,
        None => {
            unknown(callback, context_id);
            0
        }
    }
}

// ------------------------------------------------------------------------------- lifecycle

#[no_mangle]
pub extern "C" fn proxy_on_context_create(context_id: u32, root_context_id: u32) {
    set_active(context_id);
    if root_context_id == 0 {
        let root: Box<dyn RootContext> = match DISPATCHER.with(|d| d.new_root.get()) {
            Some(factory) => factory(context_id),
            None => Box::new(NoopRoot),
        };
        return put_root(context_id, root);
    }
    if let Some(factory) = DISPATCHER.with(|d| d.new_http.get()) {
        return put_http(context_id, factory(context_id, root_context_id));
    }
    if let Some(factory) = DISPATCHER.with(|d| d.new_stream.get()) {
        return put_stream(context_id, factory(context_id, root_context_id));
    }
    let created = with_root(root_context_id, |root| match root.get_type() {
        Some(ContextType::HttpContext) => root.create_http_context(context_id).map(Taken::Http),
        Some(ContextType::StreamContext) => root.create_stream_context(context_id).map(Taken::Stream),
        None => panic!(
            "proxy-wasm: cannot create context {}: call set_http_context or set_stream_context, \
             or return the ContextType from RootContext::get_type",
            context_id
        ),
    });
    match created {
        Some(Some(context)) => put_any(context_id, context),
        Some(None) => panic!(
            "proxy-wasm: RootContext::create_*_context returned None for context {}",
            context_id
        ),
        None => panic!(
            "proxy-wasm: context {} names unknown root context {}",
            context_id, root_context_id
        ),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> u32 {
    set_active(context_id);
    flag(
        with_root(context_id, |root| root.on_vm_start(vm_configuration_size)),
        "proxy_on_vm_start",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> u32 {
    set_active(context_id);
    flag(
        with_root(context_id, |root| root.on_configure(plugin_configuration_size)),
        "proxy_on_configure",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_tick(context_id: u32) {
    set_active(context_id);
    if with_root(context_id, |root| root.on_tick()).is_none() {
        unknown("proxy_on_tick", context_id);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
    set_active(context_id);
    if with_root(context_id, |root| root.on_queue_ready(queue_id)).is_none() {
        unknown("proxy_on_queue_ready", context_id);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_done(context_id: u32) -> u32 {
    set_active(context_id);
    flag(
        with_any!(context_id, |context| context.on_done()),
        "proxy_on_done",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_log(context_id: u32) {
    set_active(context_id);
    if with_any!(context_id, |context| context.on_log()).is_none() {
        unknown("proxy_on_log", context_id);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(context_id: u32) {
    // Dropped outside the borrow: a Drop impl may make host calls.
    let removed = DISPATCHER.with(|d| {
        let http = d.https.borrow_mut().remove(&context_id);
        let stream = d.streams.borrow_mut().remove(&context_id);
        let root = d.roots.borrow_mut().remove(&context_id);
        http.is_some() || stream.is_some() || root.is_some()
    });
    if !removed {
        unknown("proxy_on_delete", context_id);
    }
}

// --------------------------------------------------------------------------------------- TCP

#[no_mangle]
pub extern "C" fn proxy_on_new_connection(context_id: u32) -> u32 {
    set_active(context_id);
    action(
        with_stream(context_id, |s| s.on_new_connection()),
        "proxy_on_new_connection",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_stream(context_id, |s| s.on_downstream_data(data_size, end_of_stream != 0)),
        "proxy_on_downstream_data",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_downstream_connection_close(context_id: u32, peer_type: u32) {
    set_active(context_id);
    if with_stream(context_id, |s| s.on_downstream_close(PeerType::from_u32(peer_type))).is_none() {
        unknown("proxy_on_downstream_connection_close", context_id);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_upstream_data(context_id: u32, data_size: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_stream(context_id, |s| s.on_upstream_data(data_size, end_of_stream != 0)),
        "proxy_on_upstream_data",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_upstream_connection_close(context_id: u32, peer_type: u32) {
    set_active(context_id);
    if with_stream(context_id, |s| s.on_upstream_close(PeerType::from_u32(peer_type))).is_none() {
        unknown("proxy_on_upstream_connection_close", context_id);
    }
}

// -------------------------------------------------------------------------------------- HTTP

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(context_id: u32, num_headers: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| {
            h.on_http_request_headers(num_headers, end_of_stream != 0)
        }),
        "proxy_on_request_headers",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_request_body(context_id: u32, body_size: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| h.on_http_request_body(body_size, end_of_stream != 0)),
        "proxy_on_request_body",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| h.on_http_request_trailers(num_trailers)),
        "proxy_on_request_trailers",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(context_id: u32, num_headers: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| {
            h.on_http_response_headers(num_headers, end_of_stream != 0)
        }),
        "proxy_on_response_headers",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_response_body(context_id: u32, body_size: usize, end_of_stream: u32) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| h.on_http_response_body(body_size, end_of_stream != 0)),
        "proxy_on_response_body",
        context_id,
    )
}

#[no_mangle]
pub extern "C" fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> u32 {
    set_active(context_id);
    action(
        with_http(context_id, |h| h.on_http_response_trailers(num_trailers)),
        "proxy_on_response_trailers",
        context_id,
    )
}

// ---------------------------------------------------------------------- callouts, foreign

fn owner_of(map: fn(&Dispatcher) -> &RefCell<HashMap<u32, u32>>, token: u32, remove: bool) -> Option<u32> {
    DISPATCHER.with(|d| {
        let mut tokens = map(d).borrow_mut();
        if remove {
            tokens.remove(&token)
        } else {
            tokens.get(&token).copied()
        }
    })
}

fn stale(callback: &str, token: u32) {
    logger::log_message(
        LogLevel::Debug,
        &format!("proxy-wasm: {} for unknown token {}: ignored", callback, token),
    );
}

#[no_mangle]
pub extern "C" fn proxy_on_http_call_response(
    _context_id: u32,
    token: u32,
    num_headers: usize,
    body_size: usize,
    num_trailers: usize,
) {
    let owner = match owner_of(|d| &d.http_callouts, token, true) {
        Some(owner) => owner,
        None => return stale("proxy_on_http_call_response", token),
    };
    if switch_to(owner)
        && with_any!(owner, |c| c.on_http_call_response(
            token,
            num_headers,
            body_size,
            num_trailers
        ))
        .is_none()
    {
        // The context that made the call has ended; nobody is left to take the answer.
        stale("proxy_on_http_call_response", token);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive_initial_metadata(_context_id: u32, token: u32, num_elements: u32) {
    match owner_of(|d| &d.grpc_streams, token, false) {
        Some(owner) if switch_to(owner) => {
            with_any!(owner, |c| c.on_grpc_stream_initial_metadata(token, num_elements));
        }
        Some(_) => {}
        None => stale("proxy_on_grpc_receive_initial_metadata", token),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive(_context_id: u32, token: u32, message_size: usize) {
    if let Some(owner) = owner_of(|d| &d.grpc_callouts, token, true) {
        if switch_to(owner) {
            with_any!(owner, |c| c.on_grpc_call_response(token, 0, message_size));
        }
    } else if let Some(owner) = owner_of(|d| &d.grpc_streams, token, false) {
        if switch_to(owner) {
            with_any!(owner, |c| c.on_grpc_stream_message(token, message_size));
        }
    } else {
        stale("proxy_on_grpc_receive", token);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive_trailing_metadata(_context_id: u32, token: u32, num_elements: u32) {
    match owner_of(|d| &d.grpc_streams, token, false) {
        Some(owner) if switch_to(owner) => {
            with_any!(owner, |c| c.on_grpc_stream_trailing_metadata(token, num_elements));
        }
        Some(_) => {}
        None => stale("proxy_on_grpc_receive_trailing_metadata", token),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_grpc_close(_context_id: u32, token: u32, status_code: u32) {
    if let Some(owner) = owner_of(|d| &d.grpc_callouts, token, true) {
        if switch_to(owner) {
            with_any!(owner, |c| c.on_grpc_call_response(token, status_code, 0));
        }
    } else if let Some(owner) = owner_of(|d| &d.grpc_streams, token, true) {
        if switch_to(owner) {
            with_any!(owner, |c| c.on_grpc_stream_close(token, status_code));
        }
    } else {
        stale("proxy_on_grpc_close", token);
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_foreign_function(context_id: u32, function_id: u32, arguments_size: usize) {
    if switch_to(context_id) && with_any!(context_id, |c| c.on_foreign_function(function_id, arguments_size)).is_none()
    {
        unknown("proxy_on_foreign_function", context_id);
    }
}
