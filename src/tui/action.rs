//! The one message type of the app, and the work it asks for.
//!
//! Everything that can change the screen arrives as an [`Action`] on one channel: key presses,
//! resizes, poll results, downloads, decoded images, credit balances. `App::update` is the only
//! place state changes. What the app wants done outside itself (network, disk, decoding) it
//! emits as an [`Effect`]; the worker runs it and answers with more Actions.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::api::input::ImageSource;
use crate::api::{ApiKey, ErrorClass, TaskRecord};
use crate::store::usage::Usage;
use crate::store::{Entry, Query};
use crate::tui::preview::Payload;

/// An error as the app shows it: the message, and enough of its kind to react (a 401 asks for
/// a key, a 402 shows the balance).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub class: ErrorClass,
    pub code: Option<i64>,
}

impl Failure {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            class,
            code: None,
        }
    }
}

impl From<&crate::api::Error> for Failure {
    fn from(e: &crate::api::Error) -> Failure {
        Failure {
            message: e.to_string(),
            class: e.class(),
            code: e.code(),
        }
    }
}

impl From<crate::api::Error> for Failure {
    fn from(e: crate::api::Error) -> Failure {
        Failure::from(&e)
    }
}

/// A reference entry that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRef {
    pub source: ImageSource,
    /// Pixel size, for local files.
    pub dims: Option<(u32, u32)>,
    /// File size in bytes, for local files.
    pub bytes: Option<u64>,
}

/// One line of a directory listing in the file browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
    pub bytes: u64,
}

/// Where a submission is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitStage {
    /// Reading the balance, for the low-balance check: nothing is sent yet.
    CheckingBalance,
    Uploading {
        index: usize,
        total: usize,
        name: String,
    },
    Creating,
}

/// A task the service accepted, already written to the history.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub task_id: String,
    /// When it was created (ms since the epoch, the worker's clock): names its images' folder.
    pub created_at: i64,
    /// Set when the history could not take it (it went to the journal, or nowhere: the id is
    /// shown so it can be noted down).
    pub journal_warning: Option<String>,
}

/// One page of the history, as a query asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// How many entries match the query in all.
    pub total: usize,
    /// More match than `total`: a search is counted no further than a little past the page.
    pub more: bool,
    /// Where `entries` start among them.
    pub offset: usize,
    pub entries: Vec<Entry>,
    /// The query read only the newest entries (`Query::newest`) of a history that holds
    /// more.
    pub scoped: bool,
}

/// The account the app runs with, as it may be shown: never the key itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountInfo {
    /// The profile in use, if any.
    pub profile: Option<String>,
    pub base_url: String,
    /// The key masked (at most its first 3 and last 4 characters); `None`: no key.
    pub masked_key: Option<String>,
    /// Where the key came from: "--api-key", "FOURO_API_KEY", "profile \"kie\"", "demo".
    pub key_source: String,
    /// Warn below this balance.
    pub low_balance: Option<f64>,
    /// Where callbacks are received, when a listener runs.
    pub callback_url: Option<String>,
}

/// One profile of `config.toml`, as it may be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSummary {
    pub name: String,
    pub base_url: String,
    pub upload_url: Option<String>,
    /// The key masked; `None`: no key saved.
    pub masked_key: Option<String>,
    pub has_webhook_key: bool,
}

/// `config.toml`'s profiles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilesView {
    pub path: PathBuf,
    pub default: Option<String>,
    pub profiles: Vec<ProfileSummary>,
    /// Warnings from reading the file (its mode was repaired, unknown keys).
    pub warnings: Vec<String>,
}

/// A profile to add or edit (its key is set apart, checked first).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileEdit {
    pub name: String,
    pub base_url: String,
    pub upload_url: Option<String>,
    /// Replace a profile of that name (editing); otherwise an existing name is an error.
    pub replace: bool,
}

/// An image decoded, fitted to a box of cells and encoded for the terminal: printing it is
/// only writing `payload`.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// Size on screen, in cells.
    pub cells: (u16, u16),
    /// Pixel size of the original.
    pub source_dims: (u32, u32),
    pub payload: Arc<Payload>,
}

/// Everything the app reacts to.
#[derive(Debug, Clone)]
pub enum Action {
    // From the terminal.
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    FocusGained,
    FocusLost,
    /// Once a second, only while something on screen counts time.
    Tick,
    /// Leave now, without asking (a signal, or the terminal went away).
    Quit,
    /// Something start-up found that the person should know (a forced image protocol the
    /// terminal may not have), shown as a warning.
    Notice(String),
    /// The app is leaving but waits (at most `limit`) for `submissions` that may already
    /// have created a task, so that their ids reach the journal.
    Leaving {
        submissions: usize,
        limit: Duration,
    },

    // From the worker.
    ReferenceChecked {
        id: u64,
        result: Result<CheckedRef, String>,
    },
    DirListed {
        req: u64,
        dir: PathBuf,
        result: Result<Vec<DirEntry>, String>,
    },
    SubmitProgress {
        job: u64,
        stage: SubmitStage,
    },
    Submitted {
        job: u64,
        result: Result<NewTask, Failure>,
    },
    TaskUpdate {
        task_id: String,
        generation: u64,
        record: TaskRecord,
    },
    /// A status query failed for a passing reason and will be tried again.
    PollRetry {
        task_id: String,
        generation: u64,
        retry: crate::tasks::Retry,
    },
    /// A poll failed; `stopped` says whether the poller gave up on it.
    PollFailed {
        task_id: String,
        generation: u64,
        failure: Failure,
        stopped: bool,
    },
    ImageSaved {
        task_id: String,
        index: usize,
        result: Result<PathBuf, Failure>,
    },
    ImageDecoded {
        req: u64,
        result: Result<Fitted, String>,
    },
    Credits {
        req: u64,
        result: Result<f64, Failure>,
    },
    /// The worker could not use a new key (the client could not be built); the old key
    /// stays in use.
    KeyRejected(String),
    /// At start: the history's tasks still generating or with images not saved, oldest
    /// first, to be followed again; `now` is the worker's clock (ms since the epoch) when it
    /// read them, to show how long each has run.
    Resumed {
        entries: Vec<Entry>,
        now: i64,
    },
    /// The history could not be read or written; the message says what to do.
    HistoryError(String),
    HistoryLoaded {
        req: u64,
        result: Result<HistoryPage, String>,
    },
    /// An entry was deleted: `files` of its images were removed.
    EntryDeleted {
        task_id: String,
        result: Result<usize, String>,
    },
    /// Opening a file in the system viewer failed.
    OpenFailed(String),
    /// The service's callback for a task (already written to the history): the task ended.
    CallbackReceived(TaskRecord),
    /// `config.toml`'s profiles, after `LoadProfiles` or a change (`SaveProfile`,
    /// `RemoveProfile`); `Err` says what went wrong and nothing was changed.
    Profiles {
        req: u64,
        result: Result<ProfilesView, String>,
    },
    /// A key was checked (and, if asked, saved): the balance it reads.
    KeyChecked {
        req: u64,
        result: Result<f64, Failure>,
    },
    /// The app now runs with another account (a profile switched to, or a key saved for the
    /// profile in use).
    AccountChanged(AccountInfo),
    UsageLoaded {
        req: u64,
        result: Result<Usage, String>,
    },
    /// The prompts written before, the most recently used first, each once; answers
    /// `Effect::LoadPrompts`.
    PromptsLoaded {
        req: u64,
        result: Result<Vec<String>, String>,
    },
    /// A submit was held back: the balance read just before it probably cannot cover it
    /// (`shortfall`); nothing was sent. `per_image` is the cost per image observed.
    SubmitHeld {
        job: u64,
        balance: f64,
        per_image: Option<f64>,
        shortfall: crate::tasks::policy::Shortfall,
    },
    /// The queue as it was kept, read once at start.
    QueueLoaded(Result<crate::store::queue::Saved, String>),
    /// The balance read before the queue starts can cover it (or could not be read);
    /// otherwise `SubmitHeld` answers `Effect::CheckQueue` with its job.
    QueueChecked {
        job: u64,
    },
}

/// What a submission sends: the workflow's request.
pub use crate::tasks::Request as Draft;

/// Work the app asks for. The worker runs these; the runner handles the terminal ones.
#[derive(Debug, Clone)]
pub enum Effect {
    CheckReference {
        id: u64,
        entry: String,
    },
    ListDir {
        req: u64,
        dir: PathBuf,
    },
    /// Submit `draft`: the worker reads the balance first and holds it back
    /// (`Action::SubmitHeld`) when it probably cannot cover it, unless `AllowShortfall` came
    /// before for this job.
    Submit {
        job: u64,
        draft: Draft,
    },
    /// Start (or restart) polling a task; replies carry `generation`, older pollers are stopped.
    Poll {
        task_id: String,
        generation: u64,
    },
    /// Fetch these results (index, URL) into the data directory (the task's creation time
    /// names the folder) and record them in the history.
    Download {
        task_id: String,
        created_at: i64,
        items: Vec<(usize, String)>,
    },
    Decode {
        req: u64,
        path: PathBuf,
        cells: (u16, u16),
    },
    /// Decode these ahead (the selection's neighbours, nearest first), fitted to `cells`,
    /// while no `Decode` waits; nothing is answered.
    Prefetch {
        paths: Vec<PathBuf>,
        cells: (u16, u16),
    },
    RefreshCredits {
        req: u64,
    },
    /// Use this key for the rest of the run. The worker builds the new client off the render
    /// loop; work asked for after this waits for it.
    SetKey(ApiKey),
    /// Put text on the clipboard (through the terminal: OSC 52).
    Copy(String),
    /// Read entries `offset..offset + limit` of the history matching `query`, newest first,
    /// and how many match; answered by `Action::HistoryLoaded`.
    LoadHistory {
        req: u64,
        query: Query,
        offset: usize,
        limit: usize,
    },
    /// Delete an entry from the history, and its image files when `files`; answered by
    /// `Action::EntryDeleted`.
    DeleteEntry {
        task_id: String,
        files: bool,
    },
    /// Open a file in the system's viewer (xdg-open, open).
    Open(PathBuf),
    /// Read `config.toml`'s profiles; answered by `Action::Profiles`.
    LoadProfiles {
        req: u64,
    },
    /// Add or edit a profile (not its key); answered by `Action::Profiles`.
    SaveProfile {
        req: u64,
        edit: ProfileEdit,
    },
    /// Remove a profile; answered by `Action::Profiles`.
    RemoveProfile {
        req: u64,
        name: String,
    },
    /// Check `key` against `profile`'s service (the credit endpoint; a profile not in the file
    /// yet is made from `create`) and, when it works and `save` is set, save it in that
    /// profile, making it the default when `make_default`. Answered by `Action::KeyChecked`,
    /// then `Action::Profiles`; when the profile is the one in use (or becomes the default),
    /// the app switches to it (`Action::AccountChanged`).
    CheckKey {
        req: u64,
        profile: String,
        create: Option<ProfileEdit>,
        key: ApiKey,
        save: bool,
        make_default: bool,
    },
    /// Make a profile the default and run with it from now on; answered by
    /// `Action::AccountChanged` (or `Action::Profiles` with the error).
    UseProfile {
        req: u64,
        name: String,
    },
    /// Read the balance with the key in use, as a connection test; answered by
    /// `Action::KeyChecked`.
    TestConnection {
        req: u64,
    },
    /// Read the balance history and spending of the last 30 days; answered by
    /// `Action::UsageLoaded`.
    LoadUsage {
        req: u64,
    },
    /// Leave the app and open the demo instead (from the welcome screen).
    StartDemo,
    /// Read the prompts written before (for recalling them in the editor); answered by
    /// `Action::PromptsLoaded`.
    LoadPrompts {
        req: u64,
    },
    /// The person chose to submit `job` whatever the balance: the `Submit` that follows is
    /// sent without the low-balance check.
    AllowShortfall {
        job: u64,
    },
    /// Keep the queue as it is now (in order, and whether it is paused).
    SaveQueue(crate::store::queue::Saved),
    /// Submit queued entry `key` as `job`, as `Submit` does (the balance was checked when the
    /// queue started); once its task exists the entry leaves the kept queue.
    SubmitQueued {
        job: u64,
        key: i64,
        draft: Draft,
    },
    /// Read the balance before the queue starts, for `images` images: answered by
    /// `Action::QueueChecked`, or `Action::SubmitHeld` when it probably cannot cover them.
    CheckQueue {
        job: u64,
        images: u32,
    },
    /// Tell the person a task ended (the bell and a desktop notification); the runner
    /// writes it, between frames.
    Notify(Notification),
}

/// A desktop notification, as plain text: the runner makes it safe for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
}
