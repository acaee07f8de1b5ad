//! Plain data shared by the traits and the host calls: the ABI's enums and a few aliases.
//!
//! Values are the wire values of Proxy-Wasm ABI 0.2.1. Every enum except `LogLevel` is
//! `#[non_exhaustive]`, as upstream's are, so a `match` needs a `_` arm in both SDKs.

use crate::traits::{HttpContext, RootContext, StreamContext};

/// Creates the root (plugin) context for a context id.
pub type NewRootContext = fn(context_id: u32) -> Box<dyn RootContext>;
/// Creates a TCP stream context for a context id and its root's id.
pub type NewStreamContext = fn(context_id: u32, root_context_id: u32) -> Box<dyn StreamContext>;
/// Creates an HTTP context for a context id and its root's id.
pub type NewHttpContext = fn(context_id: u32, root_context_id: u32) -> Box<dyn HttpContext>;

/// Raw bytes handed over by the host (header values, bodies, configuration).
pub type Bytes = Vec<u8>;

#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

impl LogLevel {
    /// The level for a wire value; values above Critical (which hosts reject) clamp to Critical.
    pub(crate) fn from_u32(value: u32) -> LogLevel {
        match value {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            _ => LogLevel::Critical,
        }
    }
}

/// What an HTTP or TCP callback tells the host: go on, or hold the stream until resumed.
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Continue = 0,
    Pause = 1,
}

/// Result codes of the host calls (`proxy_status_t`). `Ok` is never returned as an error.
///
/// Upstream names only the codes its wrappers expect; this crate names every code the ABI
/// and cpp-host define so that a surprising status surfaces as an `Err` instead of a panic.
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    ParseFailure = 4,
    BadExpression = 5,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    ResultMismatch = 9,
    InternalFailure = 10,
    BrokenConnection = 11,
    Unimplemented = 12,
}

impl Status {
    /// The status for a wire value; a code outside the ABI's table reads as `InternalFailure`.
    pub(crate) fn from_u32(value: u32) -> Status {
        match value {
            0 => Status::Ok,
            1 => Status::NotFound,
            2 => Status::BadArgument,
            3 => Status::SerializationFailure,
            4 => Status::ParseFailure,
            5 => Status::BadExpression,
            6 => Status::InvalidMemoryAccess,
            7 => Status::Empty,
            8 => Status::CasMismatch,
            9 => Status::ResultMismatch,
            11 => Status::BrokenConnection,
            12 => Status::Unimplemented,
            _ => Status::InternalFailure,
        }
    }
}

/// What a root context creates for new streams when no global factory is registered.
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextType {
    HttpContext = 0,
    StreamContext = 1,
}

/// The direction a stream call (`resume_*`, `close_*`, `reset_*`) acts on.
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    HttpRequest = 0,
    HttpResponse = 1,
    Downstream = 2,
    Upstream = 3,
}

#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferType {
    HttpRequestBody = 0,
    HttpResponseBody = 1,
    DownstreamData = 2,
    UpstreamData = 3,
    HttpCallResponseBody = 4,
    GrpcReceiveBuffer = 5,
    VmConfiguration = 6,
    PluginConfiguration = 7,
    CallData = 8,
}

#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapType {
    HttpRequestHeaders = 0,
    HttpRequestTrailers = 1,
    HttpResponseHeaders = 2,
    HttpResponseTrailers = 3,
    GrpcReceiveInitialMetadata = 4,
    GrpcReceiveTrailingMetadata = 5,
    HttpCallResponseHeaders = 6,
    HttpCallResponseTrailers = 7,
}

/// Which side closed a TCP connection.
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerType {
    Unknown = 0,
    Local = 1,
    Remote = 2,
}

impl PeerType {
    /// The peer for a wire value; anything unexpected reads as `Unknown`.
    pub(crate) fn from_u32(value: u32) -> PeerType {
        match value {
            1 => PeerType::Local,
            2 => PeerType::Remote,
            _ => PeerType::Unknown,
        }
    }
}

#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter = 0,
    Gauge = 1,
    Histogram = 2,
}

/// gRPC status codes for `send_grpc_response` (spelled as upstream Rust spells them).
#[repr(u32)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrpcStatusCode {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}
