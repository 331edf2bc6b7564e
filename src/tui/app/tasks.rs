//! The tasks of this run, newest first, as the service last described them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::api::{Size, TaskRecord, TaskStatus};

#[derive(Debug, Clone, PartialEq)]
pub enum ImageSlot {
    /// Not downloaded yet.
    Pending,
    Saved(PathBuf),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub id: String,
    pub prompt: String,
    pub size: Size,
    pub variants: u32,
    pub status: TaskStatus,
    /// 0.0 ..= 1.0, as the service reports it.
    pub progress: f64,
    /// When this run of fouro began to follow it (submitted it, or resumed it).
    pub submitted: Instant,
    /// How old the task already was then: a task resumed from the history keeps counting from
    /// its creation, not from when this run noticed it.
    pub age: Duration,
    /// How long it ran, as the service's (or the history's) creation and completion times
    /// say, once it ended: a task that ended while no fouro watched did not run until now.
    pub took: Option<Duration>,
    /// When the service created it (ms since the epoch): names its images' folder.
    pub created_at: i64,
    pub ended: Option<Instant>,
    /// Why the task failed, as the service says.
    pub error: Option<String>,
    /// A passing problem (a poll that failed, the journal could not be written).
    pub note: Option<String>,
    pub images: Vec<ImageSlot>,
    /// The result URLs, once the task succeeded.
    pub urls: Vec<String>,
    /// Replies of older pollers carry an older generation and are dropped.
    pub poll_gen: u64,
    /// Whether a poller is at work on it (false once it ended, or its poller stopped).
    pub polling: bool,
    /// Its end arrived through the service's callback (before a poll saw it).
    pub via_callback: bool,
    /// When its poller stopped before the task ended: its time stands still from then (the
    /// screen cannot know more) until it is polled again.
    pub stopped_at: Option<Instant>,
    /// The references, mask and enhancement it was asked with: two tasks of one prompt
    /// differ by these.
    pub extras: Extras,
}

/// What a task was asked with beyond its prompt, aspect and variant count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    pub refs: usize,
    pub mask: bool,
    pub enhance: bool,
}

impl TaskView {
    pub fn new(
        id: String,
        prompt: String,
        size: Size,
        variants: u32,
        now: Instant,
        generation: u64,
    ) -> TaskView {
        TaskView {
            id,
            prompt,
            size,
            variants,
            status: TaskStatus::Generating,
            progress: 0.0,
            submitted: now,
            age: Duration::ZERO,
            took: None,
            created_at: 0,
            ended: None,
            error: None,
            note: None,
            images: Vec::new(),
            urls: Vec::new(),
            poll_gen: generation,
            polling: true,
            via_callback: false,
            stopped_at: None,
            extras: Extras::default(),
        }
    }

    /// Time since the task was created: until it ended, or its poller stopped, or now.
    pub fn elapsed(&self, now: Instant) -> Duration {
        let seen = self
            .ended
            .or(self.stopped_at)
            .unwrap_or(now)
            .saturating_duration_since(self.submitted)
            + self.age;
        // What was seen is an upper bound: an end is noticed after it happened.
        self.took.map_or(seen, |took| took.min(seen))
    }

    /// It ended `completed_at` (ms since the epoch), as created `created_at`.
    pub fn ended_at(&mut self, created_at: Option<i64>, completed_at: Option<i64>) {
        if let (Some(created), Some(completed)) = (created_at, completed_at) {
            self.took = u64::try_from(completed.saturating_sub(created))
                .ok()
                .map(Duration::from_millis);
        }
    }

    /// Its poller gave up (or stopped on an error) while it still generates.
    pub fn stop_polling(&mut self, now: Instant) {
        self.polling = false;
        self.stopped_at.get_or_insert(now);
    }

    pub fn is_generating(&self) -> bool {
        self.status == TaskStatus::Generating
    }

    /// What the screen draws of it: the progress only as the whole percentage shown, so a
    /// status answer that moves it less than that is seen to change nothing.
    pub fn drawn(&self) -> TaskView {
        let mut view = self.clone();
        view.progress = (view.progress.clamp(0.0, 1.0) * 100.0).round();
        view
    }

    /// Takes in a record; returns true when the task just ended.
    pub fn apply(&mut self, record: &TaskRecord, now: Instant) -> bool {
        let was_final = self.status.is_final();
        self.status = record.status;
        self.progress = record.progress.clamp(0.0, 1.0);
        self.note = None;
        if record.status.is_failure() {
            self.error = Some(failure_text(record));
        }
        if record.status == TaskStatus::Success {
            if record.result_urls.is_empty() {
                self.error = Some("the service reported success but sent no image".into());
            }
            if self.urls != record.result_urls {
                self.urls = record.result_urls.clone();
                self.images = vec![ImageSlot::Pending; record.result_urls.len()];
            }
        }
        let ended = !was_final && record.status.is_final();
        if ended {
            self.ended = Some(now);
            self.ended_at(record.create_time, record.complete_time);
            self.polling = false;
        }
        ended
    }
}

fn failure_text(record: &TaskRecord) -> String {
    match (&record.error_message, record.error_code) {
        (Some(m), Some(c)) if c != 200 => format!("{m} ({c})"),
        (Some(m), _) => m.clone(),
        (None, Some(c)) if c != 200 => format!("the service gave no reason (code {c})"),
        (None, _) => "the service gave no reason".into(),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tasks {
    pub list: Vec<TaskView>,
    pub selected: usize,
    /// Which image of the selected task the preview shows.
    pub variant: usize,
}

impl Tasks {
    pub fn get(&self, id: &str) -> Option<&TaskView> {
        self.list.iter().find(|t| t.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut TaskView> {
        self.list.iter_mut().find(|t| t.id == id)
    }

    /// The task, if a poll of `generation` is still its current one (stale answers find none).
    pub fn current(&mut self, id: &str, generation: u64) -> Option<&mut TaskView> {
        self.get_mut(id).filter(|t| t.poll_gen == generation)
    }

    pub fn selected(&self) -> Option<&TaskView> {
        self.list.get(self.selected)
    }

    /// Adds a task at the top and selects it.
    pub fn push_newest(&mut self, task: TaskView) {
        self.list.insert(0, task);
        self.selected = 0;
        self.variant = 0;
    }

    /// Adds a task at the top, the selection staying on the task it was on (in full screen
    /// the image shown does not change under the person looking at it).
    pub fn push_behind(&mut self, task: TaskView) {
        let had = !self.list.is_empty();
        self.list.insert(0, task);
        if had {
            self.selected += 1;
        }
    }

    pub fn select(&mut self, index: usize) {
        let index = index.min(self.list.len().saturating_sub(1));
        if index != self.selected {
            self.selected = index;
            self.variant = 0;
        }
    }

    pub fn step(&mut self, delta: isize) {
        self.select(self.selected.saturating_add_signed(delta));
    }

    /// Moves to the previous/next variant of the selected task, wrapping around.
    pub fn step_variant(&mut self, delta: isize) -> bool {
        let n = self.selected().map(|t| t.images.len()).unwrap_or(0);
        if n < 2 {
            return false;
        }
        self.variant = (self.variant as isize + delta).rem_euclid(n as isize) as usize;
        true
    }

    pub fn generating(&self) -> usize {
        self.list.iter().filter(|t| t.is_generating()).count()
    }

    /// Tasks generating with a poller at work: their time counts on screen.
    pub fn polled(&self) -> usize {
        self.list
            .iter()
            .filter(|t| t.is_generating() && t.polling)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: TaskStatus, progress: f64, urls: usize) -> TaskRecord {
        TaskRecord {
            task_id: "t".into(),
            status,
            progress,
            result_urls: (0..urls).map(|i| format!("http://x/{i}.png")).collect(),
            error_code: None,
            error_message: None,
            create_time: None,
            complete_time: None,
            param_json: None,
        }
    }

    #[test]
    fn ends_once_and_makes_room_for_each_image() {
        let t0 = Instant::now();
        let mut t = TaskView::new("t".into(), "p".into(), Size::Square, 2, t0, 1);
        assert!(!t.apply(&record(TaskStatus::Generating, 0.4, 0), t0));
        let t1 = t0 + Duration::from_secs(9);
        assert!(t.apply(&record(TaskStatus::Success, 1.0, 2), t1));
        assert!(!t.apply(
            &record(TaskStatus::Success, 1.0, 2),
            t1 + Duration::from_secs(5)
        ));
        assert_eq!(t.images, vec![ImageSlot::Pending, ImageSlot::Pending]);
        assert_eq!(
            t.elapsed(t1 + Duration::from_secs(60)),
            Duration::from_secs(9)
        );
        assert!(!t.polling);
    }

    #[test]
    fn variants_wrap_around() {
        let t0 = Instant::now();
        let mut tasks = Tasks::default();
        let mut t = TaskView::new("t".into(), "p".into(), Size::Square, 4, t0, 1);
        t.images = vec![ImageSlot::Pending; 4];
        tasks.push_newest(t);
        assert!(tasks.step_variant(-1));
        assert_eq!(tasks.variant, 3);
        assert!(tasks.step_variant(1));
        assert_eq!(tasks.variant, 0);
    }

    #[test]
    fn a_stopped_poller_freezes_the_time_until_polled_again() {
        let t0 = Instant::now();
        let mut tasks = Tasks::default();
        tasks.push_newest(TaskView::new(
            "a".into(),
            "p".into(),
            Size::Square,
            1,
            t0,
            1,
        ));
        assert_eq!(tasks.polled(), 1);
        tasks.list[0].stop_polling(t0 + Duration::from_secs(5));
        assert_eq!((tasks.polled(), tasks.generating()), (0, 1));
        assert_eq!(
            tasks.list[0].elapsed(t0 + Duration::from_secs(500)),
            Duration::from_secs(5)
        );
        // A new task in full screen keeps the selection on the task shown.
        tasks.push_behind(TaskView::new(
            "b".into(),
            "p".into(),
            Size::Square,
            1,
            t0,
            2,
        ));
        assert_eq!(tasks.selected().map(|t| t.id.as_str()), Some("a"));
    }
}
