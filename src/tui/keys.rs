//! The help's sections and the status line's hints. Every command's keys are the keymap's
//! (`config/keys.rs` for anywhere, `config/keys_panes.rs` for each pane and dialog); the
//! fixed keys here are the text fields' (readline's) and the mouse. `keys_table.rs` puts
//! them together for the help and the README.

use crate::config::keys_panes::Context;
use crate::tui::app::{App, Focus, Overlay, Screen};

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
}

const fn b(keys: &'static str, what: &'static str) -> Binding {
    Binding { keys, what }
}

pub const GLOBAL_FIXED: &[Binding] = &[
    b(
        "mouse click",
        "focus a pane; pick a task, a reference, an aspect box or an option",
    ),
    b(
        "mouse wheel",
        "over the tasks: select the next / previous task",
    ),
    b("Esc", "dismiss the message; close a dialog"),
];

pub const PROMPT: &[Binding] = &[
    b("type, Enter, Ctrl-M/J", "write; Enter starts a new line"),
    b(
        "Ctrl-S",
        "submit: the line under the prompt says how many images and what they should cost",
    ),
    b("←/→, Ctrl-B/F", "move by character"),
    b(
        "↑/↓, Ctrl-P/N",
        "move by line; on the first line ↑ recalls earlier prompts (newest first), ↓ comes back to the draft",
    ),
    b(
        "Ctrl-R",
        "search earlier prompts: type to narrow, Ctrl-R an older match, Enter keeps it, Esc/Ctrl-G gives back the draft",
    ),
    b("Home/End, Ctrl-A/E", "line start / end (also Ctrl-Alt-←/→)"),
    b("Ctrl-←/→, Alt-B/F", "word left / right"),
    b("Ctrl-↑/↓, Alt-[/], Alt-P/N", "paragraph up / down"),
    b(
        "Alt-< / Alt->",
        "start / end of the text (also Ctrl-Alt-↑/↓)",
    ),
    b("PgUp/PgDn, Alt-V/Ctrl-V", "scroll a page"),
    b("Shift + a move", "select text"),
    b(
        "Backspace, Ctrl-H",
        "delete the character before the cursor",
    ),
    b("Delete, Ctrl-D", "delete the character under the cursor"),
    b(
        "Ctrl-W, Alt-Bksp, Alt-H",
        "delete the word before the cursor",
    ),
    b("Alt-D, Alt-Delete", "delete the word after the cursor"),
    b("Ctrl-U / Ctrl-K", "delete to the start / end of the line"),
    b("Ctrl-Y", "paste what was deleted last (or cut with Ctrl-X)"),
    b("Ctrl-X", "cut the selection"),
    b("Alt-K", "clear the whole prompt (undo brings it back)"),
    b("Ctrl-Z, Ctrl-_", "undo (Ctrl-_ is also Ctrl-/ or Ctrl-7)"),
    b("Alt-_", "redo"),
    b("paste", "bracketed paste inserts the text as typed"),
    b("Esc", "leave the prompt (to the task list)"),
];

pub const REFERENCES: &[Binding] = &[b(
    "paste",
    "add the pasted paths or URLs, one per line (as many as fit)",
)];
pub const BROWSER: &[Binding] = &[
    b("type", "filter the list"),
    b(
        "←/→, Home/End, Delete",
        "edit the filter (readline: Ctrl-A/E, Ctrl-U/K to the start/end, Ctrl-W, Ctrl-Y)",
    ),
    b("↑/↓, PageUp/PageDown", "select"),
    b("Enter", "open the folder / choose the image"),
    b(
        "Backspace",
        "delete a filter character; with no filter, go up a folder",
    ),
    b(
        "Tab",
        "type a URL, or a path relative to the folder shown, instead",
    ),
    b("Esc", "cancel"),
];

pub const WELCOME: &[Binding] = &[
    b(
        "type, paste",
        "the API key (shown as bullets only); Ctrl-U clears it",
    ),
    b("↑/↓, Tab", "choose the service: 4oImageApi.io or kie.ai"),
    b(
        "Enter",
        "check the key and save it in config.toml as the default profile",
    ),
    b("Ctrl-D", "try the demo instead"),
    b("Esc", "quit"),
];

pub const PROFILE_FORM: &[Binding] = &[
    b("Tab/Shift-Tab, ↑/↓", "next / previous field"),
    b("←/→, Space", "on the service row: the next service"),
    b(
        "type, paste",
        "edit the field (readline: Ctrl-A/E, Ctrl-U/K to the start/end, Ctrl-W, Ctrl-Y); the key shows as bullets",
    ),
    b(
        "Enter",
        "save (a key is checked with the service first; a wrong one is not saved)",
    ),
    b("Esc", "close (a check on its way still reports)"),
];

pub const DIALOGS: &[Binding] = &[
    b(
        "type, ←/→, Home/End, Delete",
        "edit the URL or the key (readline: Ctrl-A/E/B/F/D, Alt-B/F/D, Ctrl-U/K to the start/end, Ctrl-W, Ctrl-Y)",
    ),
    b(
        "paste",
        "in the URL dialog, several lines add one entry each",
    ),
    b("Enter", "confirm (the URL, the key)"),
    b("Esc", "cancel"),
];

/// The history's search line (a text field: its keys are fixed).
pub const HISTORY_SEARCH: &[Binding] = &[b(
    "type, ↑/↓, Enter, Esc",
    "in the search line (after /): narrow as you type, move the selection, keep the search, clear it",
)];
/// What a section of the help lists: fixed keys (text fields, the mouse), or a context's
/// commands from the keymap (with the keys `[keys.CONTEXT]` gave them).
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Fixed(&'static [Binding]),
    Keys(Context),
}

/// The help's sections after "Anywhere" (which the keymap makes: `keys_table.rs`).
pub const SECTIONS: &[(&str, &[Part])] = &[
    ("Prompt", &[Part::Fixed(PROMPT)]),
    (
        "References",
        &[Part::Keys(Context::References), Part::Fixed(REFERENCES)],
    ),
    ("File browser", &[Part::Fixed(BROWSER)]),
    ("Aspect & options", &[Part::Keys(Context::Options)]),
    ("Tasks", &[Part::Keys(Context::Tasks)]),
    ("Queue", &[Part::Keys(Context::Queue)]),
    ("Staging", &[Part::Keys(Context::Stage)]),
    ("Preview", &[Part::Keys(Context::Preview)]),
    ("Full-screen image", &[Part::Keys(Context::FullScreen)]),
    (
        "History",
        &[Part::Keys(Context::History), Part::Fixed(HISTORY_SEARCH)],
    ),
    ("History details", &[Part::Keys(Context::Details)]),
    ("Account", &[Part::Keys(Context::Account)]),
    ("Profile form (account)", &[Part::Fixed(PROFILE_FORM)]),
    ("Welcome (no key yet)", &[Part::Fixed(WELCOME)]),
    ("This help", &[Part::Keys(Context::Help)]),
    (
        "Dialogs",
        &[
            Part::Fixed(DIALOGS),
            Part::Keys(Context::QuitQuestion),
            Part::Keys(Context::LowBalanceQuestion),
            Part::Keys(Context::RerunQuestion),
            Part::Keys(Context::DeleteQuestion),
            Part::Keys(Context::RemoveQuestion),
            Part::Keys(Context::QueueQuestion),
        ],
    ),
];

/// The section of the help that lists the keys of `place` (the help opens there).
pub fn section_of(place: Place) -> &'static str {
    match place {
        Place::Pane(Focus::Prompt) | Place::PromptSearch => "Prompt",
        Place::Pane(Focus::References) | Place::Browser | Place::Url => "References",
        Place::Pane(Focus::Options) => "Aspect & options",
        Place::Pane(Focus::Tasks) => "Tasks",
        Place::Pane(Focus::Preview) => "Preview",
        Place::Queue => "Queue",
        Place::Stage => "Staging",
        Place::FullScreen => "Full-screen image",
        Place::History | Place::HistorySearch | Place::ConfirmRerun | Place::ConfirmDelete => {
            "History"
        }
        Place::Details => "History details",
        Place::Account | Place::ConfirmRemove => "Account",
        Place::ProfileForm => "Profile form (account)",
        Place::Welcome => "Welcome (no key yet)",
        Place::Help => "This help",
        Place::Key | Place::Question | Place::ConfirmSubmit | Place::ConfirmQueue => "Dialogs",
    }
}

/// The context whose commands work in `place`, if its keys are in the keymap.
pub fn context_of(place: Place) -> Option<Context> {
    Some(match place {
        Place::Pane(Focus::References) => Context::References,
        Place::Pane(Focus::Options) => Context::Options,
        Place::Pane(Focus::Tasks) => Context::Tasks,
        Place::Pane(Focus::Preview) => Context::Preview,
        Place::Queue => Context::Queue,
        Place::Stage => Context::Stage,
        Place::FullScreen => Context::FullScreen,
        Place::History => Context::History,
        Place::Details => Context::Details,
        Place::Account => Context::Account,
        Place::Help => Context::Help,
        Place::Question => Context::QuitQuestion,
        Place::ConfirmSubmit => Context::LowBalanceQuestion,
        Place::ConfirmRerun => Context::RerunQuestion,
        Place::ConfirmDelete => Context::DeleteQuestion,
        Place::ConfirmRemove => Context::RemoveQuestion,
        Place::ConfirmQueue => Context::QueueQuestion,
        _ => return None,
    })
}
/// Where the keys go now, as the status line explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Pane(Focus),
    FullScreen,
    Help,
    /// A dialog that takes typing: the file browser, the URL, the key.
    Browser,
    Url,
    Key,
    Question,
    History,
    /// Typing in the history's search line.
    HistorySearch,
    Details,
    ConfirmDelete,
    /// The welcome screen (no key yet).
    Welcome,
    Account,
    ProfileForm,
    ConfirmRemove,
    /// The low-balance question before a submit.
    ConfirmSubmit,
    /// Whether to run a history entry again.
    ConfirmRerun,
    /// The reverse search over earlier prompts.
    PromptSearch,
    /// The tasks pane's selection is on the queue.
    Queue,
    Stage,
    ConfirmQueue,
}

impl Place {
    pub fn of(app: &App) -> Place {
        let history = app.screen == Screen::History;
        match &app.overlay {
            None if app.fullscreen => Place::FullScreen,
            None if history && app.history.search.is_some() => Place::HistorySearch,
            None if history => Place::History,
            None if app.screen == Screen::Welcome => Place::Welcome,
            None if app.screen == Screen::Account => Place::Account,
            None if app.focus == Focus::Prompt && app.recall.search.is_some() => {
                Place::PromptSearch
            }
            None if app.focus == Focus::Tasks && app.queue.cursor.is_some() => Place::Queue,
            None => Place::Pane(app.focus),
            Some(Overlay::Help { .. }) => Place::Help,
            Some(Overlay::Browser(_)) => Place::Browser,
            Some(Overlay::Url { .. }) => Place::Url,
            Some(Overlay::KeyPrompt { .. }) => Place::Key,
            Some(Overlay::ConfirmQuit) => Place::Question,
            Some(Overlay::Details { .. }) => Place::Details,
            Some(Overlay::ConfirmDelete { .. }) => Place::ConfirmDelete,
            Some(Overlay::ProfileForm(_)) => Place::ProfileForm,
            Some(Overlay::ConfirmRemove { .. }) => Place::ConfirmRemove,
            Some(Overlay::ConfirmSubmit { .. }) => Place::ConfirmSubmit,
            Some(Overlay::ConfirmRerun { .. }) => Place::ConfirmRerun,
            Some(Overlay::Stage(_)) => Place::Stage,
            Some(Overlay::ConfirmQueue { .. }) => Place::ConfirmQueue,
        }
    }
}

/// Said where Ctrl-S does nothing.
const NO_SUBMIT: (&str, &str) = ("Ctrl-S", "off while typing");

/// The short hints the status line shows, most useful first; the status line shows as many
/// as fit, and in the panes always ends with the help key.
pub fn hints(place: Place) -> &'static [(&'static str, &'static str)] {
    match place {
        Place::Pane(Focus::Prompt) => &[
            ("Ctrl-S", "submit"),
            ("Tab", "next pane"),
            ("↑ Ctrl-R", "earlier prompts"),
            ("Ctrl-Z", "undo"),
            ("Alt-K", "clear"),
            ("Ctrl-C", "quit"),
            ("F3", "history"),
            ("F4", "account"),
        ],
        Place::Pane(Focus::References) => &[
            ("Ctrl-S", "submit"),
            ("a", "add file"),
            ("u", "URL"),
            ("d", "remove"),
            ("K/J", "move"),
            ("m", "mask"),
            ("H", "history"),
            ("A", "account"),
        ],
        Place::Pane(Focus::Options) => &[
            ("Ctrl-S", "submit"),
            ("↑↓", "option"),
            ("←→", "change"),
            ("a/v/e/f", "quick keys"),
            ("H", "history"),
            ("A", "account"),
        ],
        Place::Pane(Focus::Tasks) => &[
            ("Ctrl-S", "submit"),
            ("↑↓", "task"),
            ("←→", "variant"),
            ("f", "full screen"),
            ("y", "copy id"),
            ("p", "retry"),
            ("H", "history"),
            ("A", "account"),
        ],
        Place::Pane(Focus::Preview) => &[
            ("Ctrl-S", "submit"),
            ("←→", "variant"),
            ("f", "full screen"),
            ("H", "history"),
            ("A", "account"),
            ("q", "quit"),
        ],
        Place::FullScreen => &[("←→", "variant"), ("Esc", "back"), ("Ctrl-S", "submit")],
        Place::Help => &[
            ("↑↓ PgUp PgDn", "scroll"),
            ("Esc", "close"),
            ("Ctrl-S", "submit"),
        ],
        Place::Browser => &[
            ("Enter", "choose"),
            ("Tab", "type a path"),
            ("Esc", "cancel"),
            NO_SUBMIT,
        ],
        Place::Url => &[("Enter", "add"), ("Esc", "cancel"), NO_SUBMIT],
        Place::Key => &[
            ("Enter", "use the key"),
            ("Esc", "go on without"),
            NO_SUBMIT,
        ],
        Place::Question => &[("y", "quit"), ("n", "stay"), ("Ctrl-S", "stay and submit")],
        Place::History => &[
            ("Esc", "back"),
            ("/", "search"),
            ("s/a", "filter"),
            ("r", "remix"),
            ("R", "re-run"),
            ("i", "details"),
            ("d", "delete"),
            ("f", "full screen"),
            ("←→", "variant"),
            ("o", "open"),
            ("y/Y", "copy path/URL"),
            ("F4", "account"),
        ],
        Place::HistorySearch => &[
            ("Enter", "keep"),
            ("Esc", "clear"),
            ("↑↓", "select"),
            NO_SUBMIT,
        ],
        Place::Details => &[
            ("↑↓ PgUp PgDn", "scroll"),
            ("Esc", "close"),
            ("Ctrl-S", "submit"),
        ],
        Place::ConfirmDelete => &[
            ("e", "entry only"),
            ("f", "entry and files"),
            ("Esc", "cancel"),
        ],
        Place::Welcome => &[
            ("Enter", "check & save the key"),
            ("↑↓", "service"),
            ("Ctrl-D", "demo"),
            ("Esc", "quit"),
            ("Ctrl-U", "clear"),
        ],
        Place::Account => &[
            ("Esc", "back"),
            ("↑↓", "profile"),
            ("Enter", "use"),
            ("a", "add"),
            ("e", "edit"),
            ("k", "new key"),
            ("x", "remove"),
            ("t", "test"),
            ("r", "reload"),
        ],
        Place::ProfileForm => &[
            ("Enter", "save"),
            ("Tab", "next field"),
            ("←→", "service"),
            ("Esc", "cancel"),
            NO_SUBMIT,
        ],
        Place::ConfirmRemove => &[("y", "remove"), ("n", "keep")],
        Place::ConfirmSubmit => &[("y", "submit anyway"), ("n", "cancel")],
        Place::ConfirmRerun => &[("y", "run again"), ("n", "cancel")],
        Place::Queue | Place::Stage | Place::ConfirmQueue => crate::tui::keys_queue::hints(place),
        Place::PromptSearch => &[
            ("type", "search"),
            ("Ctrl-R", "older"),
            ("Enter", "keep"),
            ("Esc", "back to the draft"),
            ("Ctrl-S", "submit it"),
        ],
    }
}

/// The help key as the status line names it in the panes (`?` types a question mark in a
/// prompt that has text).
pub fn help_hint(app: &App) -> Option<(&'static str, &'static str)> {
    match Place::of(app) {
        Place::Pane(Focus::Prompt) if !app.prompt.is_empty() => Some(("F1", "help")),
        Place::Pane(_) | Place::History | Place::Account => Some(("?", "help")),
        Place::Welcome => Some(("F1", "help")),
        _ => None,
    }
}
