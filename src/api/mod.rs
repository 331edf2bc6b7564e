//! The typed HTTP client for the 4o Image API. It knows nothing of the UI.

pub mod body;
pub mod client;
pub mod error;
pub mod input;
pub mod key;
pub mod limits;
pub mod poll;
pub mod types;

pub use client::{Client, ClientConfig, DEFAULT_BASE_URL};
pub use error::{Error, ErrorClass, Result};
pub use key::ApiKey;
pub use types::{FallbackModel, GenerateRequest, Size, TaskRecord, TaskStatus, Variants};
