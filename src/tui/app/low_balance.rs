//! Low balance: the credits pane's warning below `low_balance`, and the question before a
//! submit the balance probably cannot cover (below the cost observed per image × the images
//! asked for; with no cost observed yet, below `low_balance`).

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Level, Overlay};
use crate::api::types::format_credits;
use crate::store::usage::Usage;
use crate::tui::action::Draft;

/// Why the balance probably cannot cover a submission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shortfall {
    /// Below what it should cost, from the costs observed: `per_image` × `images`.
    Estimate {
        balance: f64,
        need: f64,
        per_image: f64,
        images: u32,
    },
    /// No cost observed yet, and the balance is below the low-balance threshold.
    Threshold { balance: f64, threshold: f64 },
}

impl Shortfall {
    /// The question, in one line.
    pub fn question(&self) -> String {
        match self {
            Shortfall::Estimate { balance, need, .. } => format!(
                "balance {} probably can't cover ~{} credits: submit anyway?",
                format_credits(*balance),
                format_credits(round2(*need))
            ),
            Shortfall::Threshold { balance, threshold } => format!(
                "balance {} is below your low-balance mark of {} credits: submit anyway?",
                format_credits(*balance),
                format_credits(*threshold)
            ),
        }
    }

    /// Where the estimate comes from.
    pub fn basis(&self) -> String {
        match self {
            Shortfall::Estimate {
                per_image, images, ..
            } => {
                let what = if *images == 1 { "image" } else { "images" };
                format!(
                    "{images} {what} at ~{} credits each, from the costs seen in the last 30 days",
                    format_credits(round2(*per_image))
                )
            }
            Shortfall::Threshold { .. } => {
                "no cost observed yet: the estimate is the low_balance setting".to_owned()
            }
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl App {
    /// The low-balance threshold, when the balance is known and below it.
    pub fn low_balance(&self) -> Option<f64> {
        let threshold = self.config.account.low_balance?;
        (self.credits.value? < threshold).then_some(threshold)
    }

    /// Whether the balance probably cannot cover `draft`: below its estimated cost when costs
    /// were observed, else below the low-balance threshold.
    pub(super) fn shortfall(&self, draft: &Draft) -> Option<Shortfall> {
        let balance = self.credits.value?;
        match self.usage.data.as_ref().and_then(Usage::cost_per_image) {
            Some(per_image) => {
                let images = draft.variants.count();
                let need = per_image * f64::from(images);
                (balance < need).then_some(Shortfall::Estimate {
                    balance,
                    need,
                    per_image,
                    images,
                })
            }
            None => {
                let threshold = self.config.account.low_balance?;
                (balance < threshold).then_some(Shortfall::Threshold { balance, threshold })
            }
        }
    }

    /// The low-balance question: `y` submits, anything else cancels.
    pub(super) fn submit_question_key(
        &mut self,
        draft: Draft,
        key: KeyEvent,
    ) -> (Option<Overlay>, bool) {
        if let KeyCode::Char('y' | 'Y') = key.code {
            self.send_draft(draft);
        } else {
            self.show(Level::Info, "not submitted");
        }
        (None, true)
    }
}
