//! The queue's keys, for the help and the status line (the handlers are in
//! `app/staging.rs`).

use crate::tui::keys::{Binding, Place};

const fn b(keys: &'static str, what: &'static str) -> Binding {
    Binding { keys, what }
}

pub const QUEUE: &[Binding] = &[
    b(
        "Alt-S, F2",
        "stage the draft in the queue instead of submitting it: tick aspects and variant counts for one entry each; the estimate of them all is shown; staging spends nothing",
    ),
    b(
        "P (outside the prompt), F6",
        "start the queue (its estimate shown, the balance read first) or pause it; tasks already sent go on",
    ),
    b(
        "↑ on the first task",
        "select the queue's entries (shown above the tasks); ↓ past the last comes back to the tasks",
    ),
    b(
        "K/J, Shift-↑/↓, Alt-↑/↓",
        "move the selected entry up / down",
    ),
    b("e, Enter", "take the entry back into the editor"),
    b("d, Delete", "remove the entry; u brings it back"),
    b(
        "+ / -",
        "one more / one fewer task generating at once while the queue runs (for this run)",
    ),
];

/// The status line's hints in the queue's places.
pub fn hints(place: Place) -> &'static [(&'static str, &'static str)] {
    match place {
        Place::Stage => &[
            ("Space", "tick"),
            ("←→", "move"),
            ("Enter", "stage"),
            ("Esc", "cancel"),
        ],
        Place::ConfirmQueue => &[("y", "start"), ("n", "not now")],
        _ => &[
            ("K/J", "move"),
            ("e", "edit"),
            ("d", "remove"),
            ("u", "undo"),
            ("P", "start/pause"),
            ("↓", "tasks"),
        ],
    }
}
