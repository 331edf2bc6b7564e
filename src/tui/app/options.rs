//! The panes' order, and the aspect and options pane's state: aspect, variants, enhance,
//! fallback model.

use crate::api::{FallbackModel, Size, Variants};

/// The option rows of the options pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionRow {
    Aspect,
    Variants,
    Enhance,
    Fallback,
}

impl OptionRow {
    pub const ALL: [OptionRow; 4] = [
        OptionRow::Aspect,
        OptionRow::Variants,
        OptionRow::Enhance,
        OptionRow::Fallback,
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub size: Size,
    pub variants: Variants,
    pub enhance: bool,
    /// `None`: no fallback.
    pub fallback: Option<FallbackModel>,
    pub row: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            size: Size::Square,
            variants: Variants::One,
            enhance: false,
            fallback: None,
            row: 0,
        }
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, delta: isize) -> T {
    let i = all.iter().position(|x| *x == current).unwrap_or(0) as isize;
    all[(i + delta).rem_euclid(all.len() as isize) as usize]
}

impl Options {
    pub fn current_row(&self) -> OptionRow {
        OptionRow::ALL[self.row.min(OptionRow::ALL.len() - 1)]
    }

    pub fn change(&mut self, row: OptionRow, delta: isize) {
        match row {
            OptionRow::Aspect => self.size = cycle(&Size::ALL, self.size, delta),
            OptionRow::Variants => self.variants = cycle(&Variants::ALL, self.variants, delta),
            OptionRow::Enhance => self.enhance = !self.enhance,
            OptionRow::Fallback => {
                let all = [
                    None,
                    Some(FallbackModel::FluxMax),
                    Some(FallbackModel::GptImage1),
                ];
                self.fallback = cycle(&all, self.fallback, delta);
            }
        }
    }
}

/// The panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Focus {
    Prompt,
    References,
    Options,
    Tasks,
    Preview,
}

impl Focus {
    pub const ORDER: [Focus; 5] = [
        Focus::Prompt,
        Focus::References,
        Focus::Options,
        Focus::Tasks,
        Focus::Preview,
    ];

    pub fn step(self, delta: isize) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0) as isize;
        Focus::ORDER[(i + delta).rem_euclid(Focus::ORDER.len() as isize) as usize]
    }
}
