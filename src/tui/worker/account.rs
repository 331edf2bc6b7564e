//! The account's side of the worker: profiles in `config.toml`, keys checked before they are
//! saved, switching the client to another profile, usage from the history, and results that
//! arrive through the callback listener.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::clients::{Clients, Switch, current};
use super::{Sender, blocking};
use crate::api::types::CallbackPayload;
use crate::api::{ApiKey, Client, ClientConfig};
use crate::callback::Listener;
use crate::config::{Config, ConfigError, Profile};
use crate::store::History;
use crate::tui::action::{
    AccountInfo, Action, Effect, Failure, ProfileEdit, ProfileSummary, ProfilesView,
};

/// The callback listener of this run, and the public URL a tunnel gives it, if any.
pub struct Callbacks {
    pub listener: Listener,
    pub public_url: Option<String>,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("url", &self.url())
            .finish()
    }
}

impl Callbacks {
    /// What the service is told to call.
    pub fn url(&self) -> String {
        self.listener.callback_url(self.public_url.as_deref())
    }
}

/// What the runner knows of the account when the app starts.
#[derive(Debug, Default)]
pub struct AccountSetup {
    /// Where `config.toml` is; `None`: this run keeps no profiles (the demo).
    pub config_dir: Option<PathBuf>,
    pub info: AccountInfo,
    /// The listener, and the channel it hands callbacks to.
    pub callbacks: Option<(Callbacks, mpsc::UnboundedReceiver<CallbackPayload>)>,
    /// The local time's offset from UTC, in seconds: days of the usage.
    pub utc_offset: i32,
}

pub(super) struct Account {
    config_dir: Option<PathBuf>,
    info: Arc<Mutex<AccountInfo>>,
    callbacks: Option<Arc<Callbacks>>,
    history: History,
    tx: Sender,
    utc_offset: i32,
}

impl Account {
    /// Starts the task that takes in callbacks, when a listener runs.
    pub(super) fn new(
        setup: AccountSetup,
        workflow: &crate::tasks::Workflow,
        tx: Sender,
        clients: Clients,
    ) -> Account {
        let history = workflow.history().clone();
        let callbacks = setup.callbacks.map(|(callbacks, events)| {
            let unsigned =
                (!callbacks.listener.is_signed()).then(|| (callbacks.listener.expected(), clients));
            tokio::spawn(take_callbacks(
                events,
                workflow.clone(),
                tx.clone(),
                unsigned,
            ));
            Arc::new(callbacks)
        });
        Account {
            config_dir: setup.config_dir,
            info: Arc::new(Mutex::new(setup.info)),
            callbacks,
            history,
            tx,
            utc_offset: setup.utc_offset,
        }
    }

    pub(super) fn callbacks(&self) -> Option<Arc<Callbacks>> {
        self.callbacks.clone()
    }

    /// The low-balance mark of the account in use.
    pub(super) fn low_balance(&self) -> Option<f64> {
        self.info
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .low_balance
    }

    /// The work for one account Effect; the worker spawns it.
    pub(super) fn handle(
        &self,
        effect: Effect,
        switch: Switch,
        clients: Clients,
    ) -> impl Future<Output = ()> + Send + 'static {
        let job = Job {
            config_dir: self.config_dir.clone(),
            info: self.info.clone(),
            history: self.history.clone(),
            tx: self.tx.clone(),
            utc_offset: self.utc_offset,
            switch,
        };
        async move { job.run(effect, clients).await }
    }
}

/// Everything one account job needs, owned.
struct Job {
    config_dir: Option<PathBuf>,
    info: Arc<Mutex<AccountInfo>>,
    history: History,
    tx: Sender,
    utc_offset: i32,
    switch: Switch,
}

impl Job {
    async fn run(self, effect: Effect, clients: Clients) {
        match effect {
            Effect::LoadProfiles { req } => {
                let result = self.read_config().await;
                let _ = self.tx.send(Action::Profiles { req, result });
            }
            Effect::SaveProfile { req, edit } => {
                let result = self
                    .config(move |c| {
                        let kept = c.profile(&edit.name).filter(|_| edit.replace).cloned();
                        c.add(edited(kept, &edit), edit.replace)
                    })
                    .await;
                let _ = self.tx.send(Action::Profiles { req, result });
            }
            Effect::RemoveProfile { req, name } => {
                let result = self.config(move |c| c.remove(&name).map(|_| ())).await;
                let _ = self.tx.send(Action::Profiles { req, result });
            }
            Effect::CheckKey {
                req,
                profile,
                create,
                key,
                save,
                make_default,
            } => {
                self.check_key(req, profile, create, key, save, make_default)
                    .await;
            }
            Effect::UseProfile { req, name } => self.use_profile(req, name).await,
            Effect::TestConnection { req } => {
                let Some(client) = current(clients).await else {
                    return;
                };
                let result = crate::tasks::read_balance(&client, &self.history)
                    .await
                    .map_err(Failure::from);
                let _ = self.tx.send(Action::KeyChecked { req, result });
            }
            Effect::LoadUsage { req } => {
                let base = self.info().base_url;
                let (h, offset) = (self.history.clone(), self.utc_offset);
                let now = chrono::Utc::now().timestamp_millis();
                let result =
                    blocking(move || h.usage(&base, now, offset, 30).map_err(|e| e.to_string()))
                        .await
                        .and_then(|r| r);
                let _ = self.tx.send(Action::UsageLoaded { req, result });
            }
            _ => {}
        }
    }

    fn info(&self) -> AccountInfo {
        self.info.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The profiles of `config.toml`, read only.
    async fn read_config(&self) -> Result<ProfilesView, String> {
        self.with_config(false, |_| Ok(())).await
    }

    /// Loads `config.toml`, applies `change` and saves it; returns the profiles as they are
    /// now. Nothing is saved when `change` fails.
    async fn config(
        &self,
        change: impl FnOnce(&mut Config) -> Result<(), ConfigError> + Send + 'static,
    ) -> Result<ProfilesView, String> {
        self.with_config(true, change).await
    }

    async fn with_config(
        &self,
        save: bool,
        change: impl FnOnce(&mut Config) -> Result<(), ConfigError> + Send + 'static,
    ) -> Result<ProfilesView, String> {
        let Some(dir) = self.config_dir.clone() else {
            return Err(
                "this run keeps no profiles (the demo): run fouro without `demo` to manage them"
                    .into(),
            );
        };
        blocking(move || {
            let loaded = Config::load(&dir).map_err(|e| e.to_string())?;
            let mut config = loaded.config;
            change(&mut config).map_err(|e| e.to_string())?;
            if save {
                config.save(&dir).map_err(|e| e.to_string())?;
            }
            Ok(view(
                &config,
                crate::config::config_file(&dir),
                loaded.warnings.iter().map(ToString::to_string).collect(),
            ))
        })
        .await
        .and_then(|r| r)
    }

    /// The settings a profile gives (a profile not saved yet: `create`'s).
    async fn settings_of(
        &self,
        name: &str,
        create: Option<&ProfileEdit>,
    ) -> Result<(String, Option<String>, Option<ApiKey>, Option<f64>), String> {
        let from_create = || {
            create.map(|c| {
                (
                    c.base_url.trim().to_owned(),
                    c.upload_url.clone(),
                    None,
                    None,
                )
            })
        };
        let Some(dir) = self.config_dir.clone() else {
            return from_create().ok_or_else(|| format!(
                "there is no profile {name:?}: add it first (a in the account screen, or `fouro profile add {name}`)"
            ));
        };
        let wanted = name.to_owned();
        let found = blocking(move || {
            let loaded = Config::load(&dir).map_err(|e| e.to_string())?;
            let low = loaded.config.low_balance;
            Ok::<_, String>(loaded.config.profile(&wanted).map(|p| {
                (
                    p.base_url.clone(),
                    p.upload_url.clone(),
                    p.api_key.clone(),
                    low,
                )
            }))
        })
        .await
        .and_then(|r| r)?;
        found
            .or_else(from_create)
            .ok_or_else(|| format!(
                "there is no profile {name:?}: add it first (a in the account screen, or `fouro profile add {name}`)"
            ))
    }

    async fn check_key(
        &self,
        req: u64,
        profile: String,
        create: Option<ProfileEdit>,
        key: ApiKey,
        save: bool,
        make_default: bool,
    ) {
        let (base_url, upload_url, _, low_balance) =
            match self.settings_of(&profile, create.as_ref()).await {
                Ok(s) => s,
                Err(why) => {
                    let failure = Failure::new(crate::api::ErrorClass::Usage, why);
                    let _ = self.tx.send(Action::KeyChecked {
                        req,
                        result: Err(failure),
                    });
                    return;
                }
            };
        let config = ClientConfig {
            base_url: base_url.clone(),
            upload_url: upload_url.clone(),
            api_key: Some(key.clone()),
            ..self.switch.config()
        };
        let built = blocking(move || Client::new(config))
            .await
            .map_err(|e| Failure::new(crate::api::ErrorClass::Other, e))
            .and_then(|r| r.map_err(Failure::from));
        let result = match built {
            Ok(client) => crate::tasks::read_balance(&client, &self.history)
                .await
                .map_err(Failure::from),
            Err(f) => Err(f),
        };
        let ok = result.is_ok();
        let _ = self.tx.send(Action::KeyChecked { req, result });
        if !ok || !save {
            return;
        }
        let (name, key_saved) = (profile.clone(), key.clone());
        let saved = self
            .config(move |c| {
                if c.profile(&name).is_none() {
                    let edit = create.unwrap_or(ProfileEdit {
                        name: name.clone(),
                        base_url: crate::api::DEFAULT_BASE_URL.to_owned(),
                        upload_url: None,
                        replace: false,
                    });
                    c.add(edited(None, &edit), false)?;
                }
                c.set_key(&name, Some(key_saved))?;
                if make_default {
                    c.set_default(&name)?;
                }
                Ok(())
            })
            .await;
        let failed = saved.is_err();
        let _ = self.tx.send(Action::Profiles { req, result: saved });
        let in_use = self.info().profile.as_deref() == Some(profile.as_str());
        if failed || !(in_use || make_default) {
            return;
        }
        self.switch_to(profile, base_url, upload_url, key, low_balance)
            .await;
    }

    async fn use_profile(&self, req: u64, name: String) {
        let settings = self.settings_of(&name, None).await;
        let (base_url, upload_url, key, low_balance) = match settings {
            Ok((b, u, Some(k), low)) => (b, u, k, low),
            Ok(_) => {
                let _ = self.tx.send(Action::Profiles {
                    req,
                    result: Err(format!(
                        "profile {name:?} has no key: set one first (k in the account screen, or `fouro key set --profile {name}`)"
                    )),
                });
                return;
            }
            Err(why) => {
                let _ = self.tx.send(Action::Profiles {
                    req,
                    result: Err(why),
                });
                return;
            }
        };
        let chosen = name.clone();
        let saved = self.config(move |c| c.set_default(&chosen)).await;
        let failed = saved.is_err();
        let _ = self.tx.send(Action::Profiles { req, result: saved });
        if !failed {
            self.switch_to(name, base_url, upload_url, key, low_balance)
                .await;
        }
    }

    /// Runs with this profile's service and key from now on, and tells the app.
    async fn switch_to(
        &self,
        profile: String,
        base_url: String,
        upload_url: Option<String>,
        key: ApiKey,
        low_balance: Option<f64>,
    ) {
        let config = ClientConfig {
            base_url: base_url.clone(),
            upload_url,
            api_key: Some(key.clone()),
            ..self.switch.config()
        };
        if let Err(why) = self.switch.begin(config).await {
            let _ = self.tx.send(Action::KeyRejected(format!(
                "profile {profile:?} could not be used ({why}); the previous one stays"
            )));
            return;
        }
        let info = {
            let mut info = self.info.lock().unwrap_or_else(|p| p.into_inner());
            info.key_source = format!("profile {profile:?}");
            info.profile = Some(profile);
            info.base_url = base_url;
            info.masked_key = Some(key.masked());
            info.low_balance = low_balance.or(info.low_balance);
            info.clone()
        };
        tracing::info!(profile = ?info.profile, "switched account");
        let _ = self.tx.send(Action::AccountChanged(info));
    }
}

/// `profile` (keys and all) with an edit's service, or a new profile made from the edit.
fn edited(profile: Option<Profile>, edit: &ProfileEdit) -> Profile {
    let mut p = profile.unwrap_or_else(|| Profile::new(edit.name.clone()));
    p.base_url = edit.base_url.trim().to_owned();
    p.upload_url = edit.upload_url.clone();
    p
}

/// The profiles as the app may show them: keys masked.
fn view(config: &Config, path: PathBuf, warnings: Vec<String>) -> ProfilesView {
    ProfilesView {
        path,
        default: config.default_profile().map(str::to_owned),
        profiles: config
            .profiles()
            .map(|p| ProfileSummary {
                name: p.name.clone(),
                base_url: p.base_url.clone(),
                upload_url: p.upload_url.clone(),
                masked_key: p.api_key.as_ref().map(ApiKey::masked),
                has_webhook_key: p.webhook_key.is_some(),
            })
            .collect(),
        warnings,
    }
}

/// Writes each callback's result to the history (through the workflow, as a polled answer
/// is), then hands it to the app.
///
/// Without a webhook key (`unsigned` holds the awaited ids and the clients), a callback proves
/// nothing: it only triggers a status query, and the service's answer is what is recorded;
/// an answer that the task still runs leaves it to polling.
async fn take_callbacks(
    mut events: mpsc::UnboundedReceiver<CallbackPayload>,
    workflow: crate::tasks::Workflow,
    tx: Sender,
    unsigned: Option<(crate::callback::Expected, Clients)>,
) {
    while let Some(payload) = events.recv().await {
        let record = match &unsigned {
            None => payload.record(),
            Some((expected, clients)) => {
                let Some(client) = current(clients.clone()).await else {
                    return;
                };
                match crate::tasks::follow::ask(&client, &payload.task_id).await {
                    Ok(Some(r)) if r.status.is_final() && r.task_id == payload.task_id => {
                        expected.remove(&payload.task_id);
                        Some(r)
                    }
                    Ok(_) => {
                        tracing::info!(task_id = %payload.task_id, "an unsigned callback the service does not confirm (yet): polling goes on");
                        None
                    }
                    Err(e) => {
                        tracing::info!(task_id = %payload.task_id, "an unsigned callback could not be confirmed ({e}): polling goes on");
                        None
                    }
                }
            }
        };
        let Some(record) = record else {
            tracing::warn!(task_id = %payload.task_id, "a callback with nothing usable was ignored");
            continue;
        };
        tracing::info!(task_id = %record.task_id, status = %record.status, "callback received");
        if let Some(e) = workflow.record(&record).await {
            tracing::warn!(task_id = %record.task_id, "could not record the callback: {e}");
        }
        if tx.send(Action::CallbackReceived(record)).is_err() {
            return;
        }
    }
}
