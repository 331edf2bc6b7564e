//! The real binary in real terminals: tmux (driven by `common::tmux`) and xterm under Xvfb (by
//! `run` and `harness.py` in this folder).

#[path = "../common/mod.rs"]
mod common;

mod real_terminals;
mod tmux;
