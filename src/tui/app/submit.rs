//! Submitting from the app: the draft from the editor (or a history entry), one submission at
//! a time, the low-balance question first when the balance probably cannot cover it. The
//! worker hands the draft to the task workflow.

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
    /// balance probably cannot cover it.
    pub(super) fn submit_draft(&mut self, draft: Draft) {
        if self.refuse_second_submission() {
            return;
        }
        if let Some(shortfall) = self.shortfall(&draft) {
            self.fullscreen = false;
            self.overlay = Some(Overlay::ConfirmSubmit {
                draft: Box::new(draft),
                shortfall,
            });
            return;
        }
        self.send_draft(draft);
    }

    /// Sends `draft` without asking.
    pub(super) fn send_draft(&mut self, draft: Draft) {
        if self.refuse_second_submission() {
            return;
        }
        let job = self.id();
        self.message = None;
        self.submission = Some(Submission {
            job,
            stage: None,
            draft: draft.clone(),
        });
        self.emit(Effect::Submit { job, draft });
    }
}
