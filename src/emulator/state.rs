//! Everything the emulator remembers, behind one mutex that is never held across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::EmulatorConfig;
use super::faults::{Endpoint, FaultQueue};
use super::tasks::{Plan, Task};

/// State shared by every handler and background job of one emulator.
pub(crate) struct Shared {
    pub keys: Vec<String>,
    pub cost: i64,
    pub duration: Duration,
    pub fail_rate: f64,
    pub webhook_key: Option<String>,
    /// `http://HOST:PORT`, the prefix of every URL the emulator hands out.
    pub base_url: String,
    /// Cancelled when the emulator stops; every background job watches it.
    pub shutdown: CancellationToken,
    /// For references, URL uploads and callbacks: loopback only, no proxy.
    pub http: reqwest::Client,
    /// Signs the direct-download URLs.
    pub url_secret: [u8; 32],
    /// While true, generate calls are taken (the task is made) but not answered.
    pub hold: tokio::sync::watch::Sender<bool>,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(
        config: EmulatorConfig,
        base_url: String,
        shutdown: CancellationToken,
    ) -> std::io::Result<Shared> {
        let http = super::fetch::client().map_err(std::io::Error::other)?;
        Ok(Shared {
            keys: config.keys,
            cost: config.cost,
            duration: config.duration,
            fail_rate: if config.fail_rate.is_finite() {
                config.fail_rate.clamp(0.0, 1.0)
            } else {
                0.0
            },
            webhook_key: config.webhook_key,
            base_url,
            shutdown,
            http,
            url_secret: rand::random(),
            hold: tokio::sync::watch::Sender::new(false),
            inner: Mutex::new(Inner {
                credits: config.credits,
                mode: Mode::Normal,
                quirks: Quirks::default(),
                faults: FaultQueue::default(),
                forced: VecDeque::new(),
                tasks: HashMap::new(),
                uploads: HashMap::new(),
                generate_windows: HashMap::new(),
                stats: Stats::default(),
            }),
        })
    }

    /// The state. A panic elsewhere while locked leaves it usable: every update is a plain
    /// assignment, so there is no half-done invariant to protect.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct Inner {
    pub credits: i64,
    pub mode: Mode,
    pub quirks: Quirks,
    pub faults: FaultQueue,
    /// Outcomes forced by `/emulator/next-tasks`, consumed by the next created tasks.
    pub forced: VecDeque<Forced>,
    pub tasks: HashMap<String, Task>,
    /// Uploaded files by `"{id}/{name}"`, the tail of their download URL.
    pub uploads: HashMap<String, StoredFile>,
    /// Accepted generate calls per API key, for the 20-per-10-seconds limit.
    pub generate_windows: HashMap<String, Window>,
    pub stats: Stats,
}

impl Inner {
    /// The outcome forced for the next created task, if any.
    pub fn take_forced(&mut self) -> Option<Plan> {
        let front = self.forced.front_mut()?;
        let plan = front.plan.clone();
        front.remaining = front.remaining.saturating_sub(1);
        if front.remaining == 0 {
            self.forced.pop_front();
        }
        Some(plan)
    }
}

pub(crate) struct Forced {
    pub remaining: u32,
    pub plan: Plan,
}

/// Service-wide refusal modes set by `/emulator/mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    Maintenance,
    Disabled,
    QueueFull,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "normal" => Some(Mode::Normal),
            "maintenance" => Some(Mode::Maintenance),
            "disabled" => Some(Mode::Disabled),
            "queue-full" => Some(Mode::QueueFull),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Maintenance => "maintenance",
            Mode::Disabled => "disabled",
            Mode::QueueFull => "queue-full",
        }
    }

    /// The body code and message every service endpoint answers in this mode.
    pub fn refusal(self) -> Option<(i64, &'static str)> {
        match self {
            Mode::Normal => None,
            Mode::Maintenance => {
                Some((455, "service is under maintenance, please try again later"))
            }
            Mode::Disabled => Some((505, "this feature is disabled")),
            Mode::QueueFull => Some((
                550,
                "connection denied: the queue is full, please try again later",
            )),
        }
    }
}

/// Wire quirks some mirrors show, switched on by `/emulator/quirks`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Quirks {
    /// `createTime`/`completeTime` as `"YYYY-MM-DD HH:MM:SS"` (UTC) instead of milliseconds.
    pub string_times: bool,
    /// `response.result_urls` instead of `response.resultUrls`.
    pub snake_result_urls: bool,
    /// The next this many record-info answers name another task id than the one asked for
    /// (a service mixing answers up).
    pub wrong_task_ids: u32,
    /// The first query right after a submit gets the record, not `data: null` (for tests
    /// that would otherwise wait out that moment).
    pub no_null_data: bool,
}

pub(crate) struct StoredFile {
    pub bytes: Bytes,
    pub mime: &'static str,
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub calls: [u64; Endpoint::ALL.len()],
    pub rate_limited: u64,
    pub max_record_info_per_second: u64,
    pub callbacks_sent: u64,
    pub callbacks_acked: u64,
    pub tasks: u64,
    /// Generate calls taken and not answered yet (`/emulator/hold`).
    pub held: u64,
    /// The most tasks generating at once (counted as each is created).
    pub max_generating: u64,
    /// The `User-Agent` of the last service call, to show which client is talking.
    pub last_user_agent: Option<String>,
}

impl Stats {
    pub fn count_call(&mut self, endpoint: Endpoint) {
        self.calls[endpoint as usize] += 1;
    }
}

/// Instants of recent events, for sliding-window limits.
#[derive(Debug, Default)]
pub(crate) struct Window {
    hits: VecDeque<Instant>,
}

impl Window {
    /// How many events happened within `span` before `now` (older ones are forgotten).
    pub fn count(&mut self, now: Instant, span: Duration) -> usize {
        while let Some(&first) = self.hits.front() {
            if now.saturating_duration_since(first) >= span {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        self.hits.len()
    }

    pub fn push(&mut self, now: Instant) {
        self.hits.push_back(now);
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
