//! Submitting from the app: the draft from the editor (or a history entry), one submission at
//! a time, the low-balance question first when the balance probably cannot cover it: on the
//! balance shown, then on one the worker reads just before sending (not only the one read at
//! the start or by the account screen). The worker hands the draft to the task workflow.

use super::low_balance::Shortfall;
use super::{App, Level, Overlay};
use crate::tui::action::{Draft, Effect, SubmitStage};

/// A submission on its way: uploading references, then creating the task.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub job: u64,
    pub stage: Option<SubmitStage>,
    pub draft: Draft,
}

impl App {
    /// Builds what a submission sends, or says what is missing.
    pub(super) fn draft(&self) -> Result<Draft, String> {
        let text = self.prompt_text();
        let prompt = Some(text.trim().to_owned()).filter(|p| !p.is_empty());
        let (refs, mask) = self.refs.sources()?;
        if prompt.is_none() && refs.is_empty() {
            return Err("write a prompt or add a reference image first".into());
        }
        Ok(Draft {
            prompt,
            refs,
            mask,
            size: self.options.size,
            variants: self.options.variants,
            enhance: self.options.enhance,
            fallback: self.options.fallback,
        })
    }

    pub(super) fn submit(&mut self) {
        if self.refuse_second_submission() {
            return;
        }
        self.keep_search();
        match self.draft() {
            Ok(draft) => self.submit_draft(draft),
            Err(why) => self.show(Level::Warning, why),
        }
    }

    /// One submission at a time: says so when one is on its way.
    pub(super) fn refuse_second_submission(&mut self) -> bool {
        if self.submission.is_some() {
            self.show(
                Level::Warning,
                "a submission is already on its way: wait for it to reach the service",
            );
        }
        self.submission.is_some()
    }

    /// Sends `draft` (the editor's, or a history entry's as it was); asks first when the
    /// balance shown probably cannot cover it. The worker checks again on a balance it reads
    /// just before sending, and holds the submit back to ask when that one cannot.
    pub(super) fn submit_draft(&mut self, draft: Draft) {
        if self.refuse_second_submission() {
            return;
        }
        match self.shortfall(&draft) {
            Some(shortfall) => self.ask_shortfall(draft, shortfall),
            None => self.send_draft(draft, false),
        }
    }

    fn ask_shortfall(&mut self, draft: Draft, shortfall: Shortfall) {
        self.fullscreen = false;
        self.overlay = Some(Overlay::ConfirmSubmit {
            draft: Box::new(draft),
            shortfall,
        });
    }

    /// The worker held a submit back: the balance it read just now probably cannot cover
    /// it. The balance and cost are the newest known; the question comes.
    pub(super) fn on_submit_held(
        &mut self,
        job: u64,
        balance: f64,
        per_image: Option<f64>,
        shortfall: Shortfall,
    ) -> bool {
        let Some(submission) = self.submission.take_if(|s| s.job == job) else {
            return false;
        };
        self.credits.value = Some(balance);
        self.credits.updated = Some(self.now);
        self.credits.error = None;
        if per_image.is_some() {
            self.usage.per_image = per_image;
        }
        self.ask_shortfall(submission.draft, shortfall);
        true
    }

    /// Sends `draft` without asking; `anyway`: the person answered the low-balance
    /// question, and the worker does not ask again.
    pub(super) fn send_draft(&mut self, draft: Draft, anyway: bool) {
        if self.refuse_second_submission() {
            return;
        }
        let job = self.id();
        self.message = None;
        self.recall_after_submit();
        self.submission = Some(Submission {
            job,
            stage: None,
            draft: draft.clone(),
        });
        if anyway {
            self.emit(Effect::AllowShortfall { job });
        }
        self.emit(Effect::Submit { job, draft });
    }
}
