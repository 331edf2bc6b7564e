//! The welcome screen: the app started without a key. Choose the service, paste the key
//! (shown as bullets), Enter checks it and saves it in `config.toml` as the default profile;
//! or try the demo. Nothing is submitted from here.
//!
//! The app goes on to the main screen only when the worker says it runs with the new key
//! (`AccountChanged`): until then every request would still be refused.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::line::LineInput;
use super::{App, Level, Screen};
use crate::api::ApiKey;
use crate::api::types::format_credits;
use crate::config::Preset;
use crate::tui::action::{Effect, Failure, ProfileEdit, ProfilesView};

#[derive(Debug, Clone, Default, PartialEq)]
pub enum WelcomeState {
    #[default]
    Idle,
    Checking {
        req: u64,
    },
    /// Why the last key did not work (or could not be saved); the input stays.
    Failed(String),
    /// The key works (this balance); waiting for it to be saved and put in use.
    Works {
        req: u64,
        balance: f64,
        saved: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeView {
    pub preset: Preset,
    /// The key as typed or pasted: only its length is ever shown.
    pub input: LineInput,
    pub state: WelcomeState,
}

impl Default for WelcomeView {
    fn default() -> WelcomeView {
        WelcomeView {
            preset: Preset::FourOImageApi,
            input: LineInput::new(),
            state: WelcomeState::Idle,
        }
    }
}

impl WelcomeView {
    /// A check is on its way, or the key is being saved: the input waits.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.state,
            WelcomeState::Checking { .. } | WelcomeState::Works { .. }
        )
    }

    fn switch_preset(&mut self, delta: isize) {
        let all = Preset::ALL;
        let i = all.iter().position(|p| *p == self.preset).unwrap_or(0) as isize;
        self.preset = all[(i + delta).rem_euclid(all.len() as isize) as usize];
    }
}

/// Where a person gets a key for `preset`.
pub fn key_page(preset: Preset) -> &'static str {
    match preset {
        Preset::FourOImageApi => "4oimageapi.io, API Key Management page",
        Preset::Kie => "https://kie.ai/api-key",
    }
}

impl App {
    /// Keys on the welcome screen (no dialog open).
    pub(super) fn welcome_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let empty = self.welcome.input.is_empty();
        match key.code {
            KeyCode::Esc => self.request_quit(),
            KeyCode::F(1) => self.open_help(),
            KeyCode::Char('l') if ctrl => self.screen_epoch += 1,
            _ if self.welcome.is_busy() => return false,
            KeyCode::Char('d') if ctrl || empty => self.emit(Effect::StartDemo),
            KeyCode::Char('q') if empty && !ctrl => self.request_quit(),
            KeyCode::Tab | KeyCode::Down => self.welcome.switch_preset(1),
            KeyCode::BackTab | KeyCode::Up => self.welcome.switch_preset(-1),
            KeyCode::Enter => self.check_welcome_key(),
            _ => return self.welcome.input.handle(&key),
        }
        true
    }

    pub(super) fn welcome_paste(&mut self, text: &str) -> bool {
        if self.overlay.is_some() || self.welcome.is_busy() {
            return false;
        }
        self.welcome.input.insert_str(text.trim());
        true
    }

    /// The profile the welcome saves the key into: the chosen service's, or, when the app was
    /// pointed at another service (`--base-url`, `FOURO_BASE_URL`), a "custom" one for it.
    pub fn welcome_target(&self) -> (String, String, Option<String>) {
        let base = self.config.account.base_url.trim_end_matches('/');
        let known = base.is_empty() || Preset::ALL.iter().any(|p| p.base_url() == base);
        if known {
            let preset = self.welcome.preset;
            (
                preset.name().to_owned(),
                preset.base_url().to_owned(),
                preset.upload_url().map(str::to_owned),
            )
        } else {
            ("custom".to_owned(), base.to_owned(), None)
        }
    }

    fn check_welcome_key(&mut self) {
        let Some(key) = ApiKey::new(self.welcome.input.text()) else {
            self.welcome.state = WelcomeState::Failed(
                "paste the key first (d tries the demo, Esc quits)".to_owned(),
            );
            return;
        };
        let (profile, base_url, upload_url) = self.welcome_target();
        let req = self.id();
        self.welcome.state = WelcomeState::Checking { req };
        self.emit(Effect::CheckKey {
            req,
            profile: profile.clone(),
            create: Some(ProfileEdit {
                name: profile,
                base_url,
                upload_url,
                replace: false,
            }),
            key,
            save: true,
            make_default: true,
        });
    }

    /// The welcome's check answered; false when the answer is not for it.
    pub(super) fn welcome_checked(&mut self, req: u64, result: &Result<f64, Failure>) -> bool {
        if self.screen != Screen::Welcome || self.welcome.state != (WelcomeState::Checking { req })
        {
            return false;
        }
        self.welcome.state = match result {
            Ok(balance) => WelcomeState::Works {
                req,
                balance: *balance,
                saved: None,
            },
            Err(f) => WelcomeState::Failed(f.message.clone()),
        };
        true
    }

    /// The profiles after the welcome's key was saved (or could not be); false when they
    /// are not for it.
    pub(super) fn welcome_profiles(
        &mut self,
        req: u64,
        result: &Result<ProfilesView, String>,
    ) -> bool {
        let (asked, balance) = match &self.welcome.state {
            WelcomeState::Works { req, balance, .. } => (*req, *balance),
            _ => return false,
        };
        if asked != req || self.screen != Screen::Welcome {
            return false;
        }
        match result {
            Ok(view) => {
                if let WelcomeState::Works { saved, .. } = &mut self.welcome.state {
                    *saved = Some(view.path.clone());
                }
                self.account.profiles = Some(view.clone());
            }
            Err(why) => {
                self.welcome.state = WelcomeState::Failed(format!(
                    "the key works ({} credits) but could not be saved: {why}",
                    format_credits(balance)
                ));
            }
        }
        true
    }

    /// The key was saved but the worker could not run with it: say why, keep the input.
    pub(super) fn welcome_rejected(&mut self, why: String) -> bool {
        self.welcome.state = WelcomeState::Failed(why);
        true
    }

    /// The app runs with the new account: on to the main screen, saying what happened. The
    /// key typed is forgotten.
    pub(super) fn leave_welcome(&mut self) {
        let path = match &self.welcome.state {
            WelcomeState::Works {
                saved: Some(path), ..
            } => Some(path.clone()),
            _ => self.account.profiles.as_ref().map(|v| v.path.clone()),
        };
        let text = match (&self.welcome.state, path) {
            (WelcomeState::Works { balance, .. }, Some(path)) => format!(
                "key works: {} credits — saved to {}",
                format_credits(*balance),
                path.display()
            ),
            (WelcomeState::Works { balance, .. }, None) => {
                format!("key works: {} credits — saved", format_credits(*balance))
            }
            _ => "using the new account".to_owned(),
        };
        self.welcome = Default::default();
        self.config.welcome = false;
        self.screen = Screen::Main;
        self.show(Level::Info, text);
    }
}
