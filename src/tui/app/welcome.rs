//! The welcome screen: the app started without a key. Choose the service, paste the key
//! (shown as bullets), Enter checks it and saves it in `config.toml` as the default profile;
//! or try the demo. Nothing is submitted from here.
//!
//! The app goes on to the main screen only when the worker says it runs with the new key
//! (`AccountChanged`): until then every request would still be refused.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::line::LineInput;
use super::profile_form::service_name;
use super::{App, Level, Screen};
use crate::api::ApiKey;
use crate::api::ErrorClass;
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
    /// The welcome of an app pointed at `base_url`: the known service it names is the one
    /// chosen at first.
    pub fn for_base_url(base_url: &str) -> WelcomeView {
        let base = base_url.trim_end_matches('/');
        WelcomeView {
            preset: Preset::ALL
                .into_iter()
                .find(|p| p.base_url() == base)
                .unwrap_or(Preset::FourOImageApi),
            ..WelcomeView::default()
        }
    }

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

/// Where the welcome saves the key: the profile it names on screen is the one it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeTarget {
    pub profile: String,
    pub base_url: String,
    pub upload_url: Option<String>,
    /// The known service, or `None` for one the app was pointed at (`--base-url`).
    pub preset: Option<Preset>,
}

impl WelcomeTarget {
    /// Where a person gets a key for this service. Only the pages the services' documentation
    /// names are given; no address is guessed.
    pub fn key_page(&self) -> String {
        match self.preset {
            Some(Preset::FourOImageApi) => "4oimageapi.io, API Key Management page".to_owned(),
            Some(Preset::Kie) => "kie.ai, its API key page".to_owned(),
            None => format!("the provider of {}", self.base_url),
        }
    }

    /// The service as a person knows it.
    pub fn service(&self) -> String {
        match self.preset {
            Some(p) => service_name(p).to_owned(),
            None => format!("the service at {}", self.base_url),
        }
    }

    /// What to do about a key the service refused, on this screen (the key page is shown
    /// above it).
    fn refused(&self) -> String {
        let (service, which) = match self.preset {
            Some(p) => (
                service_name(p).to_owned(),
                "one of the service chosen here (↑/↓ switches)".to_owned(),
            ),
            None => (
                format!("the service at {}", self.base_url),
                "one of that service".to_owned(),
            ),
        };
        format!(
            "{service} refused this key (401): check that it was pasted whole and is {which}, then press Enter to try again"
        )
    }
}

impl App {
    /// Keys on the welcome screen (no dialog open).
    pub(super) fn welcome_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.request_quit(),
            KeyCode::F(1) => self.open_help(),
            KeyCode::Char('l') if ctrl => self.screen_epoch += 1,
            _ if self.welcome.is_busy() => return false,
            // Ctrl-D only: a key may begin with any letter, so plain letters are typed.
            KeyCode::Char('d') if ctrl => self.emit(Effect::StartDemo),
            KeyCode::Tab | KeyCode::Down => self.switch_welcome_preset(1),
            KeyCode::BackTab | KeyCode::Up => self.switch_welcome_preset(-1),
            KeyCode::Enter => self.check_welcome_key(),
            _ => return self.welcome.input.handle(&key),
        }
        true
    }

    /// Another known service; none when the app was pointed at another one (`--base-url`).
    fn switch_welcome_preset(&mut self, delta: isize) {
        if self.welcome_target().preset.is_some() {
            self.welcome.switch_preset(delta);
        }
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
    pub fn welcome_target(&self) -> WelcomeTarget {
        let base = self.config.account.base_url.trim_end_matches('/');
        let known = base.is_empty() || Preset::ALL.iter().any(|p| p.base_url() == base);
        if known {
            let preset = self.welcome.preset;
            WelcomeTarget {
                profile: preset.name().to_owned(),
                base_url: preset.base_url().to_owned(),
                upload_url: preset.upload_url().map(str::to_owned),
                preset: Some(preset),
            }
        } else {
            WelcomeTarget {
                profile: "custom".to_owned(),
                base_url: base.to_owned(),
                upload_url: None,
                preset: None,
            }
        }
    }

    fn check_welcome_key(&mut self) {
        let Some(key) = ApiKey::new(self.welcome.input.text()) else {
            self.welcome.state = WelcomeState::Failed(
                "paste the key first (Ctrl-D tries the demo, Esc quits)".to_owned(),
            );
            return;
        };
        let target = self.welcome_target();
        let req = self.id();
        self.welcome.state = WelcomeState::Checking { req };
        self.emit(Effect::CheckKey {
            req,
            profile: target.profile.clone(),
            create: Some(ProfileEdit {
                name: target.profile,
                base_url: target.base_url,
                upload_url: target.upload_url,
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
            // The CLI's advice (--api-key) means nothing here: say what to do on this screen.
            Err(f) if f.class == ErrorClass::Auth => {
                WelcomeState::Failed(self.welcome_target().refused())
            }
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
