//! The plan of a batch run: which tasks ended in an earlier run, which to follow, which to
//! submit, which were cut off; and how it is shown before anything is spent.

use std::path::Path;

use super::KnownTasks;
use super::input::Entry;
use super::manifest::Known;
use super::runner::{Budget, Job};
use crate::api::types::format_credits;

/// What a run will do with each task of the input.
#[derive(Debug, Default)]
pub struct Plan {
    pub tasks: usize,
    pub images: u32,
    /// Ended in an earlier run: (succeeded, failed).
    pub done: (usize, usize),
    /// Lines whose generate call was cut off, left alone.
    pub unknown: Vec<(Entry, i64)>,
    pub jobs: Vec<Job>,
    /// Images of every task already submitted (by an earlier run), for the budget.
    pub submitted_images: u32,
    pub to_submit_images: u32,
}

impl Plan {
    pub fn new(
        entries: &[Entry],
        known: &KnownTasks,
        resubmit_unknown: bool,
    ) -> Result<Plan, String> {
        let mut plan = Plan {
            tasks: entries.len(),
            ..Plan::default()
        };
        let mut follow = Vec::new();
        let mut submit = Vec::new();
        for e in entries {
            let images = e.request.variants.count();
            plan.images += images;
            let Some((text, state)) = known.get(&e.key()) else {
                plan.to_submit_images += images;
                submit.push(Job::Submit(e.clone()));
                continue;
            };
            if *text != e.text {
                return Err(format!(
                    "line {} is not what it was when the batch was started: put it back, or start another batch with --manifest",
                    e.line
                ));
            }
            match state {
                Known::Ended(r) => {
                    plan.submitted_images += images;
                    if r.status.as_deref() == Some(crate::api::TaskStatus::Success.as_str()) {
                        plan.done.0 += 1;
                    } else {
                        plan.done.1 += 1;
                    }
                }
                Known::Running { task_id, .. } => {
                    plan.submitted_images += images;
                    follow.push(Job::Follow {
                        entry: e.clone(),
                        task_id: task_id.clone(),
                    });
                }
                Known::Unknown { .. } if resubmit_unknown => {
                    plan.submitted_images += images;
                    plan.to_submit_images += images;
                    submit.push(Job::Submit(e.clone()));
                }
                Known::Unknown { since } => {
                    plan.submitted_images += images;
                    plan.unknown.push((e.clone(), *since));
                }
            }
        }
        // What is generating already comes first: it holds a place among the parallel ones.
        plan.jobs = follow;
        plan.jobs.append(&mut submit);
        Ok(plan)
    }

    pub fn following(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| matches!(j, Job::Follow { .. }))
            .count()
    }
}

pub fn show_plan(plan: &Plan, per_image: Option<f64>, balance: f64, manifest: &Path) {
    let submit = plan.jobs.len() - plan.following();
    crate::cli::print::errln!(
        "batch: {} task(s), {} image(s) in all",
        plan.tasks,
        plan.images
    );
    if plan.done != (0, 0) || plan.following() > 0 || !plan.unknown.is_empty() {
        crate::cli::print::errln!(
            "  from {}: {} ended ({} succeeded), {} to follow, {} cut off",
            manifest.display(),
            plan.done.0 + plan.done.1,
            plan.done.0,
            plan.following(),
            plan.unknown.len()
        );
    }
    let estimate = match per_image {
        Some(p) => format!(
            "~{} credits ({} per image, as observed)",
            format_credits(p * f64::from(plan.to_submit_images)),
            format_credits(p)
        ),
        None => "cost not known yet".to_owned(),
    };
    crate::cli::print::errln!(
        "to submit: {submit} task(s), {} image(s): {estimate}",
        plan.to_submit_images
    );
    crate::cli::print::errln!("balance: {} credits", format_credits(balance));
    for (e, since) in &plan.unknown {
        crate::cli::print::errln!(
            "{}: its generate call was cut off ({}), so the service may have made and billed it with an id no one knows; it is not submitted again: check `fouro credits --usage`, then pass --resubmit-unknown to submit it again",
            e.label(),
            crate::cli::history::local_minute(*since)
        );
    }
}

/// How many of the tasks to submit fit in `--max-credits`, in order.
pub fn show_budget(plan: &Plan, budget: &Budget) {
    let mut spent = budget.spent;
    let mut fit = 0;
    for job in &plan.jobs {
        if let Job::Submit(e) = job {
            let next = spent + budget.per_image * f64::from(e.request.variants.count());
            if next > budget.max {
                break;
            }
            spent = next;
            fit += 1;
        }
    }
    let submit = plan.jobs.len() - plan.following();
    let what = if fit == submit {
        "all of them fit".to_owned()
    } else {
        format!("the first {fit} of them fit")
    };
    crate::cli::print::errln!(
        "--max-credits {}: {what} (~{} credits with what was submitted before)",
        format_credits(budget.max),
        format_credits(spent)
    );
}
