//! The service side: the emulator itself, the API client, the callback listener and the task
//! workflow, over real loopback sockets.

#[path = "../common/mod.rs"]
mod common;

mod callback;
mod client;
mod emulator;
mod same_policy;
mod workflow;
