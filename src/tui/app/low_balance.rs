//! Low balance: the credits pane's warning below `low_balance`, and the question before a
//! submit the balance probably cannot cover (below the cost observed per image × the images
//! asked for; with no cost observed yet, below `low_balance`).

use super::{App, Level, Overlay};
use crate::api::types::format_credits;
use crate::tui::action::Draft;

pub use crate::tasks::policy::Shortfall;

impl App {
    /// The low-balance threshold, when the balance is known and below it.
    pub fn low_balance(&self) -> Option<f64> {
        let threshold = self.config.account.low_balance?;
        (self.credits.value? < threshold).then_some(threshold)
    }

    /// Whether the balance probably cannot cover `draft`: below its estimated cost when costs
    /// were observed, else below the low-balance threshold.
    pub(super) fn shortfall(&self, draft: &Draft) -> Option<Shortfall> {
        crate::tasks::policy::shortfall(
            self.credits.value?,
            self.config.account.low_balance,
            self.usage.per_image,
            draft.variants.count(),
        )
    }

    /// What `images` images should cost, shown wherever a submit is decided: the images ×
    /// the cost per image observed, or that no cost was observed yet.
    pub fn estimate(&self, images: u32) -> String {
        let what = if images == 1 {
            "1 image".to_owned()
        } else {
            format!("{images} images")
        };
        match self.usage.per_image {
            Some(per_image) => format!(
                "{what}, ~{} credits",
                format_credits(per_image * f64::from(images))
            ),
            None => format!("{what}, cost not known yet"),
        }
    }

    /// The low-balance question: `y` submits, anything else cancels.
    pub(super) fn submit_question_key(
        &mut self,
        draft: Draft,
        yes: bool,
    ) -> (Option<Overlay>, bool) {
        if yes {
            self.send_draft(draft, true);
        } else {
            self.show(Level::Info, "not submitted");
        }
        (None, true)
    }
}
