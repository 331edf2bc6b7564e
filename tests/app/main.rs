//! The app: its screens and keys through `App::update` (snapshots under `snapshots/`), and the
//! real worker behind it against the emulator on 127.0.0.1.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod elapsed;
mod history;
mod keymap;
mod keymap_panes;
mod keys;
mod no_colour;
mod queue_snapshots;
mod queue_worker;
mod resume;
mod screens;
mod task_rows;
mod tasks;
mod theme;
mod welcome_saves;
mod worker_account;
