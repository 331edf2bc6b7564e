//! Every key binding, in one table: the help overlay lists it, the status line quotes it.
//! The handlers live in `app/input.rs`; keep the two in step.

use crate::tui::app::Focus;

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
}

const fn b(keys: &'static str, what: &'static str) -> Binding {
    Binding { keys, what }
}

#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub title: &'static str,
    pub bindings: &'static [Binding],
}

pub const GLOBAL: &[Binding] = &[
    b(
        "Ctrl-S",
        "submit the prompt, references and options (from any pane)",
    ),
    b("Tab / Shift-Tab", "focus the next / previous pane"),
    b("mouse click", "focus a pane (and pick a task or option)"),
    b("F1, ?", "this help (? outside the prompt)"),
    b("F5, c", "refresh the credit balance (c outside the prompt)"),
    b("Esc", "dismiss the message; close an overlay"),
    b("Ctrl-L", "redraw the screen"),
    b(
        "q, Ctrl-C",
        "quit (q outside the prompt); asks first while tasks generate",
    ),
];

pub const PROMPT: &[Binding] = &[
    b("type, Enter", "write; Enter starts a new line"),
    b("arrows, Home/End", "move; Ctrl-A / Ctrl-E line start / end"),
    b("Ctrl-←/→, Alt-B/F", "word left / right"),
    b("Ctrl-U, Ctrl-Z", "undo"),
    b("Ctrl-R", "redo"),
    b("Ctrl-W, Alt-Backspace", "delete the word before the cursor"),
    b("Ctrl-K", "delete to the end of the line"),
    b("paste", "bracketed paste inserts the text as typed"),
    b("Esc", "leave the prompt (to the task list)"),
];

pub const REFERENCES: &[Binding] = &[
    b("a", "add a local image (file browser)"),
    b("u", "add a URL (or type a path)"),
    b("m", "set the mask (only with at most one reference)"),
    b("↑/↓, k/j", "select an entry"),
    b("Shift-↑/↓, K/J", "move the selected entry up / down"),
    b("d, Delete", "remove the selected entry (or the mask)"),
];

pub const BROWSER: &[Binding] = &[
    b("type", "filter the list"),
    b("↑/↓", "select"),
    b("Enter", "open the folder / choose the image"),
    b(
        "Backspace",
        "delete a filter character; with no filter, go up a folder",
    ),
    b("Tab", "type a URL or path instead"),
    b("Esc", "cancel"),
];

pub const OPTIONS: &[Binding] = &[
    b("↑/↓", "select an option"),
    b("←/→, Space", "change it"),
    b("a", "next aspect ratio (1:1, 3:2, 2:3)"),
    b("v", "next variant count (1, 2, 4)"),
    b("e", "enhance the prompt on / off"),
    b("f", "fallback model: off, FLUX_MAX, GPT_IMAGE_1"),
];

pub const TASKS: &[Binding] = &[
    b("↑/↓, k/j, Home/End", "select a task"),
    b("←/→", "previous / next variant"),
    b("Enter, f", "show the image full screen"),
    b("y", "copy the task id (OSC 52 clipboard)"),
    b("p", "poll the task again"),
];

pub const PREVIEW: &[Binding] = &[
    b("←/→", "previous / next variant"),
    b("Enter, f", "full screen"),
];

pub const FULLSCREEN: &[Binding] = &[b("←/→", "previous / next variant"), b("Esc, f, q", "back")];

pub const DIALOGS: &[Binding] = &[
    b("Enter", "confirm (the URL, the key, quitting)"),
    b("Esc", "cancel"),
    b("y / n", "answer the quit question"),
];

pub const SECTIONS: &[Section] = &[
    Section {
        title: "Anywhere",
        bindings: GLOBAL,
    },
    Section {
        title: "Prompt",
        bindings: PROMPT,
    },
    Section {
        title: "References",
        bindings: REFERENCES,
    },
    Section {
        title: "File browser",
        bindings: BROWSER,
    },
    Section {
        title: "Aspect & options",
        bindings: OPTIONS,
    },
    Section {
        title: "Tasks",
        bindings: TASKS,
    },
    Section {
        title: "Preview",
        bindings: PREVIEW,
    },
    Section {
        title: "Full-screen image",
        bindings: FULLSCREEN,
    },
    Section {
        title: "Dialogs",
        bindings: DIALOGS,
    },
];

/// The short hints the status line shows for the focused pane, most useful first; the
/// status line shows as many as fit, and always ends with the help key.
pub fn hints(focus: Focus) -> &'static [(&'static str, &'static str)] {
    match focus {
        Focus::Prompt => &[
            ("Ctrl-S", "submit"),
            ("Tab", "next pane"),
            ("Ctrl-U/R", "undo/redo"),
            ("Ctrl-C", "quit"),
        ],
        Focus::References => &[
            ("Ctrl-S", "submit"),
            ("a", "add file"),
            ("u", "URL"),
            ("d", "remove"),
            ("K/J", "move"),
            ("m", "mask"),
        ],
        Focus::Options => &[
            ("Ctrl-S", "submit"),
            ("↑↓", "option"),
            ("←→", "change"),
            ("a/v/e/f", "quick keys"),
        ],
        Focus::Tasks => &[
            ("Ctrl-S", "submit"),
            ("↑↓", "task"),
            ("←→", "variant"),
            ("f", "full screen"),
            ("y", "copy id"),
            ("p", "retry"),
        ],
        Focus::Preview => &[
            ("Ctrl-S", "submit"),
            ("←→", "variant"),
            ("f", "full screen"),
            ("q", "quit"),
        ],
    }
}

/// The help key as the status line names it (`?` types a question mark in the prompt).
pub fn help_hint(focus: Focus) -> (&'static str, &'static str) {
    if focus == Focus::Prompt {
        ("F1", "help")
    } else {
        ("?", "help")
    }
}
