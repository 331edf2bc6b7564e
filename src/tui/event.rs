//! The terminal's events as Actions: a task reads crossterm's EventStream and sends them on
//! the app's channel. Bursts are merged (many resizes become the last one); mouse moves,
//! drags and key releases are dropped at the source, so they cost nothing.

use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use std::time::Duration;

use futures::StreamExt;

use crate::tui::action::Action;
use crate::tui::worker::Sender;

/// Reads events until the terminal goes away (then asks the app to quit).
pub async fn read(tx: Sender) {
    let mut events = EventStream::new();
    while let Some(first) = events.next().await {
        let mut batch = vec![first];
        // Whatever else is already waiting comes in the same batch. (Not through the stream:
        // polling it with a throwaway waker loses its wake-up.) The stream has no read in
        // flight right after it yielded, so these zero-timeout calls cannot block.
        while batch.len() < 512 && crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
            batch.push(crossterm::event::read());
        }
        for action in merge(batch) {
            if tx.send(action).is_err() {
                return;
            }
        }
    }
    let _ = tx.send(Action::Quit);
}

/// Converts a batch, keeping only the last of its resizes.
pub fn merge(batch: Vec<std::io::Result<Event>>) -> Vec<Action> {
    let mut actions: Vec<Action> = Vec::with_capacity(batch.len());
    let mut failed = false;
    for event in batch {
        match event {
            Ok(e) => actions.extend(to_action(e)),
            Err(e) => {
                tracing::error!("reading the terminal failed: {e}");
                failed = true;
            }
        }
    }
    let last_resize = actions
        .iter()
        .rposition(|a| matches!(a, Action::Resize(..)));
    let mut i = 0;
    actions.retain(|a| {
        i += 1;
        !matches!(a, Action::Resize(..)) || Some(i - 1) == last_resize
    });
    if failed {
        actions.push(Action::Quit);
    }
    actions
}

pub fn to_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        Event::Paste(s) => Some(Action::Paste(s)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(_) | MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                Some(Action::Mouse(m))
            }
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::FocusGained => Some(Action::FocusGained),
        Event::FocusLost => Some(Action::FocusLost),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};

    #[test]
    fn a_burst_of_resizes_becomes_the_last_one() {
        let key = Event::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
        let moved = Event::Mouse(MouseEvent {
            kind: MouseEventKind::Moved,
            column: 1,
            row: 1,
            modifiers: KeyModifiers::NONE,
        });
        let batch = vec![
            Ok(Event::Resize(80, 24)),
            Ok(key),
            Ok(moved),
            Ok(Event::Resize(100, 30)),
            Ok(Event::Resize(120, 40)),
        ];
        let actions = merge(batch);
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert!(matches!(actions[0], Action::Key(_)));
        assert!(matches!(actions[1], Action::Resize(120, 40)));
    }
}
