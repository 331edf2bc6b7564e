//! The `fouro` binary against the emulator on 127.0.0.1: each test runs it with a private data
//! and config directory (`common::Fouro`) and reads its output, exit code and files.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod app_options;
mod batch;
mod clock;
mod commands;
mod crash;
mod full_disk;
mod help;
mod history;
mod shells;
