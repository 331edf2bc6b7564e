//! The account screen: the account in use, its balance and spending, and `config.toml`'s
//! profiles (use, add, edit, new key, remove, test); and the usage the app keeps (the
//! estimate before a submit is in `low_balance.rs`).
//!
//! Every request carries a number; a reply is taken only while its request is the one
//! awaited (a reload or a newer request forgets the older ones). A key is always checked
//! before it is saved: the worker answers `CheckKey` with `KeyChecked`, then (the key saved)
//! with `Profiles` under the same number.

use crossterm::event::{KeyCode, KeyEvent};

use super::input::Anywhere;
use super::profile_form::{FormKind, FormRequest, ProfileForm};
use super::{App, Credits, Level, Overlay, Screen};
use crate::api::types::format_credits;
use crate::config::keys_panes::{Act, Context};
use crate::store::usage::Usage;
use crate::tui::action::{AccountInfo, Effect, Failure, ProfileSummary, ProfilesView};

/// A change asked of `config.toml`, waiting for its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Save {
        name: String,
        replace: bool,
    },
    Remove {
        name: String,
    },
    Use {
        name: String,
    },
    /// A key checked (`balance` once it works), then saved.
    Key {
        name: String,
        balance: Option<f64>,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountView {
    /// The profiles, as last read.
    pub profiles: Option<ProfilesView>,
    /// Why the last read failed.
    pub error: Option<String>,
    pub loading: bool,
    load_req: u64,
    pub selected: usize,
    /// Select the profile in use when the next list arrives (the screen just opened).
    select_active: bool,
    /// The change waiting for its answer, and its request.
    pub op: Option<(u64, Pending)>,
    /// The connection test waiting for its answer.
    pub testing: Option<u64>,
}

impl AccountView {
    pub fn selected_profile(&self) -> Option<&ProfileSummary> {
        self.profiles.as_ref()?.profiles.get(self.selected)
    }

    /// Takes in a new list, the selection staying on the same profile if it is still there.
    fn set_profiles(&mut self, view: ProfilesView, active: Option<&str>) {
        let keep = if self.select_active {
            active.map(str::to_owned)
        } else {
            self.selected_profile().map(|p| p.name.clone())
        };
        self.select_active = false;
        self.selected = keep
            .and_then(|name| view.profiles.iter().position(|p| p.name == name))
            .unwrap_or(self.selected)
            .min(view.profiles.len().saturating_sub(1));
        self.profiles = Some(view);
        self.error = None;
    }

    /// The worker could not run with the profile switched to: nothing is waited for.
    pub(super) fn switch_failed(&mut self) {
        self.op.take_if(|(_, p)| matches!(p, Pending::Use { .. }));
    }

    fn step(&mut self, delta: isize) -> bool {
        let n = self.profiles.as_ref().map_or(0, |v| v.profiles.len());
        let to = self
            .selected
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
        let changed = to != self.selected;
        self.selected = to;
        changed
    }
}

/// The usage of the account in use (balance readings, spending per day, task costs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageState {
    pub data: Option<Usage>,
    pub error: Option<String>,
    pub loading: bool,
    req: u64,
    /// The cost per image observed, from the newest of the usage and the check before the
    /// last submit; `None` until a cost was seen.
    pub per_image: Option<f64>,
}

/// The host of a URL, for the credits pane's title.
fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

impl App {
    pub(super) fn load_profiles(&mut self) {
        let req = self.id();
        self.account.load_req = req;
        self.account.loading = true;
        self.emit(Effect::LoadProfiles { req });
    }

    pub(super) fn load_usage(&mut self) {
        let req = self.id();
        self.usage.req = req;
        self.usage.loading = true;
        self.emit(Effect::LoadUsage { req });
    }

    pub(super) fn open_account(&mut self) {
        if self.screen == Screen::History {
            self.close_history();
        }
        self.screen = Screen::Account;
        self.fullscreen = false;
        self.account.select_active = true;
        self.load_profiles();
        self.load_usage();
    }

    pub(super) fn close_account(&mut self) {
        self.screen = Screen::Main;
    }

    /// Keys on the account screen (no dialog open).
    pub(super) fn account_key(&mut self, key: KeyEvent, command: Anywhere) -> bool {
        if key.code == KeyCode::Esc && self.message.is_some() {
            self.message = None;
            return true;
        }
        match self.act_in(Context::Account, &key, command) {
            Some(Act::Back) => self.close_account(),
            Some(Act::Up) => return self.account.step(-1),
            Some(Act::Down) => return self.account.step(1),
            Some(Act::First) => return self.account.step(isize::MIN),
            Some(Act::Last) => return self.account.step(isize::MAX),
            Some(Act::Reload) => {
                self.load_profiles();
                self.load_usage();
            }
            Some(Act::Add) => {
                self.overlay = Some(Overlay::ProfileForm(Box::new(ProfileForm::add())))
            }
            Some(Act::Test) => {
                let req = self.id();
                self.account.testing = Some(req);
                self.emit(Effect::TestConnection { req });
            }
            Some(act @ (Act::Use | Act::Edit | Act::NewKey | Act::Remove)) => {
                return self.profile_key(act);
            }
            Some(_) => return false,
            None => return self.screen_command(command),
        }
        true
    }

    /// The keys acting on the selected profile.
    fn profile_key(&mut self, act: Act) -> bool {
        let Some(profile) = self.account.selected_profile().cloned() else {
            let add = crate::tui::keys_table::key_in(
                &self.config.keys,
                crate::tui::keys::Place::Account,
                "a",
            );
            self.show(Level::Info, format!("no profile selected: {add} adds one"));
            return true;
        };
        match act {
            Act::Use => {
                if self.config.account.profile.as_deref() == Some(profile.name.as_str()) {
                    self.show(
                        Level::Info,
                        format!("profile \"{}\" is the one in use", profile.name),
                    );
                } else {
                    let req = self.id();
                    let name = profile.name.clone();
                    self.account.op = Some((req, Pending::Use { name: name.clone() }));
                    self.emit(Effect::UseProfile { req, name });
                }
            }
            Act::Edit => {
                self.overlay = Some(Overlay::ProfileForm(Box::new(ProfileForm::edit(&profile))))
            }
            Act::NewKey => {
                self.overlay = Some(Overlay::ProfileForm(Box::new(ProfileForm::new_key(
                    &profile.name,
                ))))
            }
            _ => self.overlay = Some(Overlay::ConfirmRemove { name: profile.name }),
        }
        true
    }

    /// Keys in the profile form. While it waits for an answer only Esc works (it closes the
    /// form; the answer still comes, as a message).
    pub(super) fn form_key(
        &mut self,
        mut form: Box<ProfileForm>,
        key: KeyEvent,
    ) -> (Option<Overlay>, bool) {
        if key.code == KeyCode::Esc {
            return (None, true);
        }
        if form.waiting.is_some() {
            return (Some(Overlay::ProfileForm(form)), false);
        }
        let changed = match key.code {
            KeyCode::Tab | KeyCode::Down => {
                form.step(1);
                true
            }
            KeyCode::BackTab | KeyCode::Up => {
                form.step(-1);
                true
            }
            KeyCode::Enter => {
                self.send_form(&mut form);
                true
            }
            _ => form.handle(&key),
        };
        (Some(Overlay::ProfileForm(form)), changed)
    }

    /// Asks the worker for what the form says, or shows in the form why not.
    fn send_form(&mut self, form: &mut ProfileForm) {
        let request = match form.request() {
            Ok(r) => r,
            Err(why) => {
                form.error = Some(why);
                return;
            }
        };
        let exists = |name: &str| {
            self.account
                .profiles
                .as_ref()
                .is_some_and(|v| v.profiles.iter().any(|p| p.name == name))
        };
        if form.kind == FormKind::Add && exists(form.name.text().trim()) {
            form.error = Some(format!(
                "a profile named \"{}\" exists already: choose another name (e edits it, k gives it a new key)",
                form.name.text().trim()
            ));
            return;
        }
        let req = self.id();
        form.error = None;
        form.waiting = Some(req);
        match request {
            FormRequest::Save(edit) => {
                let pending = Pending::Save {
                    name: edit.name.clone(),
                    replace: edit.replace,
                };
                self.account.op = Some((req, pending));
                self.emit(Effect::SaveProfile { req, edit });
            }
            FormRequest::Check { name, create, key } => {
                self.account.op = Some((
                    req,
                    Pending::Key {
                        name: name.clone(),
                        balance: None,
                    },
                ));
                self.emit(Effect::CheckKey {
                    req,
                    profile: name,
                    create,
                    key,
                    save: true,
                    make_default: false,
                });
            }
        }
    }

    /// The remove question: `y` removes, anything else keeps.
    pub(super) fn remove_key(&mut self, name: String, yes: bool) -> (Option<Overlay>, bool) {
        if yes {
            let req = self.id();
            self.account.op = Some((req, Pending::Remove { name: name.clone() }));
            self.emit(Effect::RemoveProfile { req, name });
        }
        (None, true)
    }

    pub(super) fn account_paste(&mut self, text: &str) -> bool {
        match &mut self.overlay {
            Some(Overlay::ProfileForm(form)) if form.waiting.is_none() => form.paste(text),
            _ => false,
        }
    }

    /// The form waiting for `req`, if it is open.
    fn waiting_form(&mut self, req: u64) -> Option<&mut ProfileForm> {
        match &mut self.overlay {
            Some(Overlay::ProfileForm(form)) if form.waiting == Some(req) => Some(form),
            _ => None,
        }
    }

    /// A change failed: said in the form when it is still open, else as a message.
    fn change_failed(&mut self, req: u64, why: String) {
        match self.waiting_form(req) {
            Some(form) => {
                form.waiting = None;
                form.works = None;
                form.error = Some(why);
            }
            None => self.show(Level::Error, why),
        }
    }

    /// A change succeeded: the form (if still open) closes, a message says so.
    fn change_done(&mut self, req: u64, text: String) {
        if self.waiting_form(req).is_some() {
            self.overlay = None;
        }
        self.show(Level::Info, text);
    }

    pub(super) fn on_profiles(&mut self, req: u64, result: Result<ProfilesView, String>) -> bool {
        if self.welcome_profiles(req, &result) {
            return true;
        }
        let active = self.config.account.profile.clone();
        if req == self.account.load_req {
            self.account.loading = false;
            match result {
                Ok(view) => self.account.set_profiles(view, active.as_deref()),
                Err(why) => self.account.error = Some(why),
            }
            return true;
        }
        let Some((_, pending)) = self.account.op.take_if(|(r, _)| *r == req) else {
            return false;
        };
        let view = match result {
            Ok(view) => view,
            Err(why) => {
                let why = match pending {
                    Pending::Save { name, .. } => format!("profile \"{name}\" not saved: {why}"),
                    Pending::Remove { name } => format!("profile \"{name}\" not removed: {why}"),
                    Pending::Use { name } => format!("could not switch to \"{name}\": {why}"),
                    Pending::Key {
                        name,
                        balance: Some(b),
                    } => format!(
                        "the key works ({} credits) but was not saved in \"{name}\": {why}",
                        format_credits(b)
                    ),
                    Pending::Key { name, .. } => format!("key for \"{name}\" not saved: {why}"),
                };
                self.change_failed(req, why);
                return true;
            }
        };
        self.account.set_profiles(view, active.as_deref());
        match pending {
            Pending::Save { name, replace } => {
                let what = if replace {
                    "saved"
                } else {
                    "added (no key yet: k sets one)"
                };
                self.change_done(req, format!("profile \"{name}\" {what}"));
            }
            Pending::Remove { name } => {
                self.show(Level::Info, format!("profile \"{name}\" removed"));
            }
            Pending::Key {
                name,
                balance: Some(b),
            } => {
                let path = self
                    .account
                    .profiles
                    .as_ref()
                    .map(|v| v.path.display().to_string())
                    .unwrap_or_else(|| "config.toml".into());
                self.change_done(
                    req,
                    format!(
                        "key works: {} credits — saved in profile \"{name}\" ({path})",
                        format_credits(b)
                    ),
                );
            }
            // The list before the answer that matters: keep waiting for it.
            other => self.account.op = Some((req, other)),
        }
        true
    }

    pub(super) fn on_key_checked(&mut self, req: u64, result: Result<f64, Failure>) -> bool {
        if self.welcome_checked(req, &result) {
            return true;
        }
        if self.account.testing == Some(req) {
            self.account.testing = None;
            match result {
                Ok(b) => self.show(
                    Level::Info,
                    format!(
                        "connection works: the key in use reads {} credits",
                        format_credits(b)
                    ),
                ),
                Err(f) => self.show(
                    Level::Error,
                    format!("connection test failed: {}", f.message),
                ),
            }
            return true;
        }
        let name = match &mut self.account.op {
            Some((r, Pending::Key { name, balance })) if *r == req => {
                if let Ok(b) = &result {
                    *balance = Some(*b);
                }
                name.clone()
            }
            _ => return false,
        };
        match result {
            Ok(b) => {
                if let Some(form) = self.waiting_form(req) {
                    form.works = Some(b);
                }
            }
            Err(f) => {
                let why = format!("the key for \"{name}\" was not saved: {}", f.message);
                self.account.op = None;
                self.change_failed(req, why);
            }
        }
        true
    }

    pub(super) fn on_account_changed(&mut self, info: AccountInfo) -> bool {
        if info.key_source != "demo" {
            self.config.endpoint = host(&info.base_url);
        }
        let name = info.profile.clone();
        self.config.account = info;
        // The balance and usage shown were the old account's.
        self.credits = Credits::default();
        self.usage.data = None;
        self.usage.per_image = None;
        self.refresh_credits();
        self.load_usage();
        if self.screen == Screen::Welcome {
            self.leave_welcome();
        }
        if let Some((_, Pending::Use { .. })) = &self.account.op {
            self.account.op = None;
            let name = name.unwrap_or_else(|| "?".into());
            self.show(Level::Info, format!("now using profile \"{name}\""));
        }
        if self.screen == Screen::Account {
            // The default (or a key) changed in the file.
            self.load_profiles();
        }
        true
    }

    pub(super) fn on_usage_loaded(&mut self, req: u64, result: Result<Usage, String>) -> bool {
        if req != self.usage.req {
            return false;
        }
        self.usage.loading = false;
        match result {
            Ok(usage) => {
                self.usage.per_image = usage.cost_per_image();
                self.usage.data = Some(usage);
                self.usage.error = None;
            }
            Err(why) => self.usage.error = Some(why),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_for_the_title() {
        assert_eq!(host("https://api.kie.ai"), "api.kie.ai");
        assert_eq!(host("http://127.0.0.1:8787/x?y"), "127.0.0.1:8787");
        assert_eq!(host("weird"), "weird");
    }
}
