//! Each pane's and dialog's commands, their keys and what the help says of them: the key
//! handling, the help, the status line and the README's key table read this table, as they
//! read the "anywhere" one (`keys.rs`). `config.toml` rebinds them per pane:
//! `[keys.history]` then `rerun = "ctrl-r"`. Text fields (the prompt, the file browser's
//! filter, the URL, key and profile fields, the history's search line) keep their readline
//! keys: those are not in the table.

use super::keys::{Chord, Command, Keymap, name};

/// Where a pane command works: a pane, a screen or a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    References,
    Options,
    Tasks,
    /// The tasks pane while its selection is on the queue's entries.
    Queue,
    Preview,
    FullScreen,
    History,
    Details,
    Account,
    Help,
    Stage,
    QuitQuestion,
    LowBalanceQuestion,
    RerunQuestion,
    DeleteQuestion,
    RemoveQuestion,
    QueueQuestion,
}

/// Every context, as `[keys.NAME]` calls it.
pub const CONTEXTS: &[(Context, &str)] = &[
    (Context::References, "references"),
    (Context::Options, "options"),
    (Context::Tasks, "tasks"),
    (Context::Queue, "queue"),
    (Context::Preview, "preview"),
    (Context::FullScreen, "full-screen"),
    (Context::History, "history"),
    (Context::Details, "details"),
    (Context::Account, "account"),
    (Context::Help, "help"),
    (Context::Stage, "stage"),
    (Context::QuitQuestion, "quit-question"),
    (Context::LowBalanceQuestion, "low-balance-question"),
    (Context::RerunQuestion, "rerun-question"),
    (Context::DeleteQuestion, "delete-question"),
    (Context::RemoveQuestion, "remove-question"),
    (Context::QueueQuestion, "queue-question"),
];

/// What a pane key does; the context says to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    MoveUp,
    MoveDown,
    PrevVariant,
    NextVariant,
    FullScreen,
    Back,
    Remove,
    AddFile,
    AddUrl,
    Mask,
    PrevValue,
    NextValue,
    Aspect,
    Variants,
    Enhance,
    Fallback,
    CopyId,
    Retry,
    Edit,
    Undo,
    MoreAtOnce,
    FewerAtOnce,
    Search,
    StatusFilter,
    AspectFilter,
    Remix,
    Rerun,
    Open,
    CopyPath,
    CopyUrl,
    Details,
    Delete,
    Use,
    Add,
    NewKey,
    Test,
    Reload,
    Tick,
    Stage,
    Yes,
    EntryOnly,
    WithFiles,
}

/// One row of the table.
pub struct PaneEntry {
    pub context: Context,
    pub act: Act,
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub what: &'static str,
}

const fn p(
    context: Context,
    act: Act,
    name: &'static str,
    keys: &'static [&'static str],
    what: &'static str,
) -> PaneEntry {
    PaneEntry {
        context,
        act,
        name,
        keys,
        what,
    }
}

use Act as A;
use Context as C;

/// Every pane command, by context, in the order the help lists them (one row a line).
#[rustfmt::skip]
pub const PANE_COMMANDS: &[PaneEntry] = &[
    p(C::References, A::AddFile, "add-file", &["a"], "add a local image (file browser)"),
    p(C::References, A::AddUrl, "add-url", &["u"], "add a URL (or type a path)"),
    p(C::References, A::Mask, "mask", &["m"], "set the mask (only with at most one reference)"),
    p(C::References, A::Up, "up", &["up", "k"], "select the entry above"),
    p(C::References, A::Down, "down", &["down", "j"], "select the entry below"),
    p(C::References, A::MoveUp, "move-up", &["shift-up", "K"], "move the selected entry up"),
    p(C::References, A::MoveDown, "move-down", &["shift-down", "J"], "move the selected entry down"),
    p(C::References, A::Remove, "remove", &["d", "delete", "backspace"], "remove the selected entry (or the mask)"),
    p(C::Options, A::Up, "up", &["up", "k"], "select the option above"),
    p(C::Options, A::Down, "down", &["down", "j"], "select the option below"),
    p(C::Options, A::PrevValue, "previous-value", &["left", "h"], "previous value"),
    p(C::Options, A::NextValue, "next-value", &["right", "l", "space", "enter"], "next value"),
    p(C::Options, A::Aspect, "aspect", &["a"], "next aspect ratio (1:1, 3:2, 2:3)"),
    p(C::Options, A::Variants, "variants", &["v"], "next variant count (1, 2, 4)"),
    p(C::Options, A::Enhance, "enhance", &["e"], "enhance the prompt on / off"),
    p(C::Options, A::Fallback, "fallback", &["f"], "fallback model: off, FLUX_MAX, GPT_IMAGE_1"),
    p(C::Tasks, A::Up, "up", &["up", "k"], "select the task above (on the first: the queue's entries, when there are some)"),
    p(C::Tasks, A::Down, "down", &["down", "j"], "select the task below"),
    p(C::Tasks, A::First, "first", &["home", "g"], "first task"),
    p(C::Tasks, A::Last, "last", &["end", "G"], "last task"),
    p(C::Tasks, A::PrevVariant, "previous-variant", &["left", "h"], "previous variant"),
    p(C::Tasks, A::NextVariant, "next-variant", &["right", "l"], "next variant"),
    p(C::Tasks, A::FullScreen, "full-screen", &["enter", "f"], "show the image full screen"),
    p(C::Tasks, A::CopyId, "copy-id", &["y"], "copy the task id (OSC 52 clipboard)"),
    p(C::Tasks, A::Retry, "retry", &["p"], "check the task again (after its poller stopped), or fetch failed downloads"),
    p(C::Queue, A::Up, "up", &["up", "k"], "select the entry above"),
    p(C::Queue, A::Down, "down", &["down", "j"], "select the entry below; past the last, back to the tasks"),
    p(C::Queue, A::MoveUp, "move-up", &["K", "shift-up", "alt-up"], "move the selected entry up"),
    p(C::Queue, A::MoveDown, "move-down", &["J", "shift-down", "alt-down"], "move the selected entry down"),
    p(C::Queue, A::Edit, "edit", &["e", "enter"], "take the entry back into the editor"),
    p(C::Queue, A::Remove, "remove", &["d", "delete", "backspace"], "remove the entry"),
    p(C::Queue, A::Undo, "undo", &["u"], "bring the removed entry back"),
    p(C::Queue, A::MoreAtOnce, "more-at-once", &["+"], "one more task generating at once while the queue runs (for this run)"),
    p(C::Queue, A::FewerAtOnce, "fewer-at-once", &["-"], "one fewer task generating at once while the queue runs (for this run)"),
    p(C::Preview, A::PrevVariant, "previous-variant", &["left", "h"], "previous variant"),
    p(C::Preview, A::NextVariant, "next-variant", &["right", "l"], "next variant"),
    p(C::Preview, A::FullScreen, "full-screen", &["enter", "f"], "full screen"),
    p(C::FullScreen, A::PrevVariant, "previous-variant", &["left", "h", "["], "previous variant"),
    p(C::FullScreen, A::NextVariant, "next-variant", &["right", "l", "]"], "next variant"),
    p(C::FullScreen, A::Back, "back", &["esc", "enter", "f"], "back (so does the quit key, plain; Esc first dismisses a message)"),
    p(C::History, A::Up, "up", &["up", "k"], "select the newer generation"),
    p(C::History, A::Down, "down", &["down", "j"], "select the older generation"),
    p(C::History, A::PageUp, "page-up", &["pageup"], "a page up"),
    p(C::History, A::PageDown, "page-down", &["pagedown"], "a page down"),
    p(C::History, A::First, "first", &["home", "g"], "the newest"),
    p(C::History, A::Last, "last", &["end", "G"], "the oldest"),
    p(C::History, A::PrevVariant, "previous-variant", &["left", "h", "["], "previous variant"),
    p(C::History, A::NextVariant, "next-variant", &["right", "l", "]"], "next variant"),
    p(C::History, A::Search, "search", &["/"], "search the prompts (and task ids) as you type; Enter keeps the search, Esc clears it"),
    p(C::History, A::StatusFilter, "status-filter", &["s"], "status filter: all, generating, success, failed, expired"),
    p(C::History, A::AspectFilter, "aspect-filter", &["a"], "aspect filter: all, 1:1, 3:2, 2:3"),
    p(C::History, A::FullScreen, "full-screen", &["enter", "f"], "show the image full screen"),
    p(C::History, A::Remix, "remix", &["r"], "remix: its prompt, references, mask and options into the editor"),
    p(C::History, A::Rerun, "rerun", &["R"], "run it again as it was (references by the URLs they were uploaded to): asks first, with what it should cost"),
    p(C::History, A::Open, "open", &["o"], "open the image in the system viewer"),
    p(C::History, A::CopyPath, "copy-path", &["y"], "copy the image's path (OSC 52 clipboard)"),
    p(C::History, A::CopyUrl, "copy-url", &["Y"], "copy the image's URL (OSC 52 clipboard)"),
    p(C::History, A::Details, "details", &["i"], "every detail: parameters, times, cost, each image"),
    p(C::History, A::Delete, "delete", &["d", "delete"], "delete: asks whether to remove the entry only, or its image files too"),
    p(C::History, A::Back, "back", &["esc"], "back to the main screen (so do the history and quit keys, plain; Esc first dismisses a message)"),
    p(C::Details, A::Up, "up", &["up", "k"], "scroll up a line"),
    p(C::Details, A::Down, "down", &["down", "j"], "scroll down a line"),
    p(C::Details, A::PageUp, "page-up", &["pageup"], "scroll up a page"),
    p(C::Details, A::PageDown, "page-down", &["pagedown", "space"], "scroll down a page"),
    p(C::Details, A::First, "first", &["home", "g"], "top"),
    p(C::Details, A::Last, "last", &["end", "G"], "bottom"),
    p(C::Details, A::Back, "close", &["esc", "enter", "i"], "close (so does the quit key, plain)"),
    p(C::Account, A::Up, "up", &["up"], "select the profile above"),
    p(C::Account, A::Down, "down", &["down"], "select the profile below"),
    p(C::Account, A::First, "first", &["home", "g"], "the first profile"),
    p(C::Account, A::Last, "last", &["end", "G"], "the last profile"),
    p(C::Account, A::Use, "use", &["enter", "u"], "use the selected profile from now on (it becomes the default)"),
    p(C::Account, A::Add, "add", &["a"], "add a profile: name, service or base URL, upload URL, then its key (checked before it is saved)"),
    p(C::Account, A::Edit, "edit", &["e"], "edit the selected profile's service, base and upload URL"),
    p(C::Account, A::NewKey, "new-key", &["k"], "give the selected profile a new key (checked before it is saved)"),
    p(C::Account, A::Remove, "remove", &["x", "d"], "remove the selected profile (asks first: y removes)"),
    p(C::Account, A::Test, "test", &["t"], "test the connection: read the balance with the key in use"),
    p(C::Account, A::Reload, "reload", &["r"], "read the profiles and the usage again"),
    p(C::Account, A::Back, "back", &["esc"], "back to the main screen (so do the account and quit keys, plain; Esc first dismisses a message)"),
    p(C::Help, A::Up, "up", &["up", "k"], "scroll up a line"),
    p(C::Help, A::Down, "down", &["down", "j"], "scroll down a line"),
    p(C::Help, A::PageUp, "page-up", &["pageup"], "scroll up a page"),
    p(C::Help, A::PageDown, "page-down", &["pagedown", "space"], "scroll down a page"),
    p(C::Help, A::First, "first", &["home", "g"], "top"),
    p(C::Help, A::Last, "last", &["end", "G"], "bottom"),
    p(C::Help, A::Back, "close", &["esc", "enter"], "close (so do the help key and the quit key, plain)"),
    p(C::Stage, A::Tick, "tick", &["space", "x"], "tick the aspect or count under the cursor"),
    p(C::Stage, A::Up, "previous", &["left", "up", "shift-tab", "h", "k"], "the previous box"),
    p(C::Stage, A::Down, "next", &["right", "down", "tab", "l", "j"], "the next box"),
    p(C::Stage, A::Stage, "stage", &["enter"], "stage one entry per ticked aspect and count"),
    p(C::Stage, A::Back, "cancel", &["esc"], "cancel"),
    p(C::QuitQuestion, A::Yes, "yes", &["y", "Y", "enter"], "the quit question: quit (so do the quit keys); any other key stays, the submit key stays and submits"),
    p(C::LowBalanceQuestion, A::Yes, "yes", &["y", "Y"], "the low-balance question before a submit: submit anyway; any other key cancels"),
    p(C::RerunQuestion, A::Yes, "yes", &["y", "Y", "enter"], "the re-run question (in the history): run it again; any other key cancels"),
    p(C::DeleteQuestion, A::EntryOnly, "entry-only", &["e"], "the delete question (in the history): remove the entry only"),
    p(C::DeleteQuestion, A::WithFiles, "with-files", &["f"], "the delete question: remove the entry and its image files"),
    p(C::DeleteQuestion, A::Back, "cancel", &["esc", "n"], "the delete question: cancel (so does the quit key, plain)"),
    p(C::RemoveQuestion, A::Yes, "yes", &["y", "Y"], "the remove question (account): remove the profile; any other key keeps it"),
    p(C::QueueQuestion, A::Yes, "yes", &["y", "Y"], "the queue's start question: start it; any other key does not"),
];

/// The anywhere commands that also reach `context`, ahead of its own keys or behind them:
/// a key of the context's that one of them has too would hide one or the other.
fn reaching(context: Context) -> &'static [Command] {
    use Command::*;
    match context {
        C::References | C::Options | C::Tasks | C::Queue | C::Preview => &[
            Submit, NextPane, PrevPane, Help, History, Account, Refresh, Redraw, Quit, Stage,
            StartQueue,
        ],
        C::FullScreen | C::History | C::Account => {
            &[Submit, Help, History, Account, Refresh, Redraw, Quit]
        }
        C::Help => &[Submit, Help, Quit],
        _ => &[Submit, Quit],
    }
}

/// Why `chord` cannot be both `mine` and `other`'s.
fn clash(chord: &Chord, mine: &str, other: &str) -> String {
    format!("{chord} is {other}'s key too: bind {mine} or {other} to another key")
}

/// The name `[keys]` gives `context`.
pub fn context_name(context: Context) -> &'static str {
    CONTEXTS
        .iter()
        .find(|(c, _)| *c == context)
        .map_or("?", |(_, n)| n)
}

/// The context `[keys.NAME]` names.
pub fn context_named(name: &str) -> Option<Context> {
    CONTEXTS.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

/// The command `name` of `context`, or what it could have been.
pub fn act_named(context: Context, name: &str) -> Result<Act, String> {
    let mut known = PANE_COMMANDS.iter().filter(|e| e.context == context);
    known
        .clone()
        .find(|e| e.name == name)
        .map(|e| e.act)
        .ok_or_else(|| {
            let names: Vec<&str> = known.by_ref().map(|e| e.name).collect();
            format!(
                "{name:?} is not a command of [keys.{}]: its commands are {}",
                context_name(context),
                names.join(", ")
            )
        })
}

fn act_name(context: Context, act: Act) -> &'static str {
    PANE_COMMANDS
        .iter()
        .find(|e| e.context == context && e.act == act)
        .map_or("?", |e| e.name)
}

pub(super) fn default_panes() -> Vec<(Context, Act, Vec<Chord>)> {
    PANE_COMMANDS
        .iter()
        .map(|e| {
            let chords = e.keys.iter().filter_map(|k| Chord::parse(k).ok()).collect();
            (e.context, e.act, chords)
        })
        .collect()
}

impl Keymap {
    /// What `key` does in `context`, if anything: a chord with the key's own Shift and Alt
    /// first, then one that leaves them out.
    pub fn act(&self, context: Context, key: &crossterm::event::KeyEvent) -> Option<Act> {
        let in_context = || self.panes.iter().filter(move |(c, _, _)| *c == context);
        in_context()
            .find(|(_, _, chords)| chords.iter().any(|c| c.matches_exactly(key)))
            .or_else(|| in_context().find(|(_, _, chords)| chords.iter().any(|c| c.matches(key))))
            .map(|(_, act, _)| *act)
    }

    /// The keys of `act` in `context`.
    pub fn pane_keys(&self, context: Context, act: Act) -> &[Chord] {
        self.panes
            .iter()
            .find(|(c, a, _)| *c == context && *a == act)
            .map_or(&[], |(_, _, chords)| chords.as_slice())
    }

    /// The keys of `act` in `context` as the help lists them: `↑, k`.
    pub fn pane_label(&self, context: Context, act: Act) -> String {
        let keys: Vec<String> = self
            .pane_keys(context, act)
            .iter()
            .map(Chord::to_string)
            .collect();
        keys.join(", ")
    }

    /// Binds `act` in `context` to `chords` instead of its defaults.
    pub fn rebind_act(&mut self, context: Context, act: Act, chords: Vec<Chord>) {
        if let Some(slot) = self
            .panes
            .iter_mut()
            .find(|(c, a, _)| *c == context && *a == act)
        {
            slot.2 = chords;
        }
    }

    /// Why `act`'s keys in `context` cannot stay as they are: none, one another command of
    /// the context has too, or one an anywhere command reaching the context has.
    pub fn pane_conflict(&self, context: Context, act: Act) -> Option<String> {
        let here = format!("{}.{}", context_name(context), act_name(context, act));
        let keys = self.pane_keys(context, act);
        if keys.is_empty() {
            return Some(format!("{here} needs at least one key"));
        }
        keys.iter().find_map(|chord| {
            let sibling = self
                .panes
                .iter()
                .find(|(c, a, others)| *c == context && *a != act && others.contains(chord))
                .map(|(c, a, _)| format!("{}.{}", context_name(*c), act_name(*c, *a)));
            let anywhere = || {
                reaching(context)
                    .iter()
                    .find(|command| self.keys(**command).contains(chord))
                    .map(|command| name(*command).to_owned())
            };
            sibling
                .or_else(anywhere)
                .map(|other| clash(chord, &here, &other))
        })
    }

    /// The first pane command whose keys `command` would share, as [`Keymap::pane_conflict`]
    /// words it.
    pub fn shadowed_by(&self, command: Command) -> Option<String> {
        let mine = self.keys(command);
        self.panes
            .iter()
            .filter(|(c, _, _)| reaching(*c).contains(&command))
            .find_map(|(c, a, chords)| {
                let chord = chords.iter().find(|chord| mine.contains(chord))?;
                let other = format!("{}.{}", context_name(*c), act_name(*c, *a));
                Some(clash(chord, name(command), &other))
            })
    }

    /// Every context's commands, for the conflict checks.
    pub fn pane_commands(&self) -> impl Iterator<Item = (Context, Act)> + '_ {
        self.panes.iter().map(|(c, a, _)| (*c, *a))
    }
}
