//! The status line's hints in the queue's places (its keys are the keymap's: the
//! `queue`, `stage` and `queue-question` contexts).

use crate::tui::keys::Place;

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
