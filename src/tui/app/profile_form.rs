//! The account screen's small form: add a profile (name, service, URLs, key), edit one's
//! URLs, or give one a new key. It only edits and checks what was typed; what is asked of
//! the worker is decided in `account.rs`.

use crossterm::event::{KeyCode, KeyEvent};

use super::line::LineInput;
use crate::api::ApiKey;
use crate::config::{Preset, validate_name};
use crate::tui::action::{ProfileEdit, ProfileSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// A new profile: name, service, URLs and (optionally) its key.
    Add,
    /// An existing profile's service and URLs (its name and key stay).
    Edit,
    /// A new key for an existing profile, checked before it is saved.
    Key,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Service,
    BaseUrl,
    UploadUrl,
    Key,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Service => "Service",
            Field::BaseUrl => "Base URL",
            Field::UploadUrl => "Upload URL",
            Field::Key => "API key",
        }
    }
}

/// A service preset, or URLs of one's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Preset(Preset),
    Custom,
}

impl Service {
    const ALL: [Service; 3] = [
        Service::Preset(Preset::FourOImageApi),
        Service::Preset(Preset::Kie),
        Service::Custom,
    ];

    /// The service whose URLs these are.
    pub fn of(base_url: &str, upload_url: Option<&str>) -> Service {
        let base = base_url.trim().trim_end_matches('/');
        let upload = upload_url
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty());
        Preset::ALL
            .into_iter()
            .find(|p| p.base_url() == base && p.upload_url() == upload)
            .map_or(Service::Custom, Service::Preset)
    }

    pub fn label(self) -> &'static str {
        match self {
            Service::Preset(p) => service_name(p),
            Service::Custom => "other (base URL below)",
        }
    }
}

/// A preset as people know the service.
pub fn service_name(preset: Preset) -> &'static str {
    match preset {
        Preset::FourOImageApi => "4oImageApi.io",
        Preset::Kie => "kie.ai",
    }
}

/// What the form asks for once it is valid.
#[derive(Debug, Clone, PartialEq)]
pub enum FormRequest {
    /// Save the profile (no key given, or only its URLs changed).
    Save(ProfileEdit),
    /// Check `key` against profile `name` (made from `create` when new), and save it.
    Check {
        name: String,
        create: Option<ProfileEdit>,
        key: ApiKey,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileForm {
    pub kind: FormKind,
    pub name: LineInput,
    pub service: Service,
    pub base_url: LineInput,
    pub upload_url: LineInput,
    /// Shown as bullets only.
    pub key: LineInput,
    pub field: Field,
    /// Why the last try was refused (by the form or by the worker).
    pub error: Option<String>,
    /// The request the form waits for (a check or a save), if any.
    pub waiting: Option<u64>,
    /// The key was checked and works (this balance); it is being saved.
    pub works: Option<f64>,
}

fn filled(text: &str) -> LineInput {
    let mut input = LineInput::new();
    input.insert_str(text);
    input
}

impl ProfileForm {
    fn blank(kind: FormKind, field: Field) -> ProfileForm {
        ProfileForm {
            kind,
            name: LineInput::new(),
            service: Service::Custom,
            base_url: LineInput::new(),
            upload_url: LineInput::new(),
            key: LineInput::new(),
            field,
            error: None,
            waiting: None,
            works: None,
        }
    }

    /// A new profile, for 4oImageApi.io until another service is chosen.
    pub fn add() -> ProfileForm {
        let mut form = ProfileForm::blank(FormKind::Add, Field::Name);
        form.set_service(Service::Preset(Preset::FourOImageApi));
        form
    }

    pub fn edit(profile: &ProfileSummary) -> ProfileForm {
        let mut form = ProfileForm::blank(FormKind::Edit, Field::Service);
        form.name = filled(&profile.name);
        form.base_url = filled(&profile.base_url);
        form.upload_url = filled(profile.upload_url.as_deref().unwrap_or(""));
        form.service = Service::of(&profile.base_url, profile.upload_url.as_deref());
        form
    }

    pub fn new_key(name: &str) -> ProfileForm {
        let mut form = ProfileForm::blank(FormKind::Key, Field::Key);
        form.name = filled(name);
        form
    }

    pub fn fields(&self) -> &'static [Field] {
        match self.kind {
            FormKind::Add => &[
                Field::Name,
                Field::Service,
                Field::BaseUrl,
                Field::UploadUrl,
                Field::Key,
            ],
            FormKind::Edit => &[Field::Service, Field::BaseUrl, Field::UploadUrl],
            FormKind::Key => &[Field::Key],
        }
    }

    pub fn input(&self, field: Field) -> Option<&LineInput> {
        match field {
            Field::Name => Some(&self.name),
            Field::Service => None,
            Field::BaseUrl => Some(&self.base_url),
            Field::UploadUrl => Some(&self.upload_url),
            Field::Key => Some(&self.key),
        }
    }

    fn input_mut(&mut self) -> Option<&mut LineInput> {
        match self.field {
            Field::Name => Some(&mut self.name),
            Field::Service => None,
            Field::BaseUrl => Some(&mut self.base_url),
            Field::UploadUrl => Some(&mut self.upload_url),
            Field::Key => Some(&mut self.key),
        }
    }

    /// Moves to the next (or previous) field, wrapping around.
    pub fn step(&mut self, delta: isize) {
        let fields = self.fields();
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0) as isize;
        self.field = fields[(i + delta).rem_euclid(fields.len() as isize) as usize];
    }

    fn set_service(&mut self, service: Service) {
        self.service = service;
        if let Service::Preset(p) = service {
            self.base_url = filled(p.base_url());
            self.upload_url = filled(p.upload_url().unwrap_or(""));
        }
    }

    /// The next (or previous) service; a preset fills in its URLs.
    pub fn cycle_service(&mut self, delta: isize) {
        let all = Service::ALL;
        let i = all.iter().position(|s| *s == self.service).unwrap_or(0) as isize;
        self.set_service(all[(i + delta).rem_euclid(all.len() as isize) as usize]);
    }

    /// An editing key for the field in focus; false when it is none.
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        if self.field == Field::Service {
            return match key.code {
                KeyCode::Left => {
                    self.cycle_service(-1);
                    true
                }
                KeyCode::Right | KeyCode::Char(' ') => {
                    self.cycle_service(1);
                    true
                }
                _ => false,
            };
        }
        let field = self.field;
        let Some(input) = self.input_mut() else {
            return false;
        };
        let changed = input.handle(key);
        if changed && matches!(field, Field::BaseUrl | Field::UploadUrl) {
            self.service = Service::of(self.base_url.text(), Some(self.upload_url.text()));
        }
        changed
    }

    /// Pasted text goes into the field in focus, on one line.
    pub fn paste(&mut self, text: &str) -> bool {
        let field = self.field;
        let Some(input) = self.input_mut() else {
            return false;
        };
        input.insert_str(text.trim());
        if matches!(field, Field::BaseUrl | Field::UploadUrl) {
            self.service = Service::of(self.base_url.text(), Some(self.upload_url.text()));
        }
        true
    }

    /// What to ask for, or what is wrong (and the field to fix, which gets the focus).
    pub fn request(&mut self) -> Result<FormRequest, String> {
        let result = self.build();
        if let Err((field, _)) = &result {
            self.field = *field;
        }
        result.map_err(|(_, why)| why)
    }

    fn build(&self) -> Result<FormRequest, (Field, String)> {
        let name = self.name.text().trim().to_owned();
        if self.kind == FormKind::Key {
            let key = ApiKey::new(self.key.text())
                .ok_or((Field::Key, "paste the new key first".to_owned()))?;
            return Ok(FormRequest::Check {
                name,
                create: None,
                key,
            });
        }
        validate_name(&name).map_err(|e| (Field::Name, e.to_string()))?;
        let base_url = checked_url(self.base_url.text())
            .map_err(|why| (Field::BaseUrl, format!("base URL: {why}")))?;
        let upload_url = match self.upload_url.text().trim() {
            "" => None,
            url => Some(
                checked_url(url).map_err(|why| (Field::UploadUrl, format!("upload URL: {why}")))?,
            ),
        };
        let edit = ProfileEdit {
            name: name.clone(),
            base_url,
            upload_url,
            replace: self.kind == FormKind::Edit,
        };
        match ApiKey::new(self.key.text()) {
            Some(key) if self.kind == FormKind::Add => Ok(FormRequest::Check {
                name,
                create: Some(edit),
                key,
            }),
            _ => Ok(FormRequest::Save(edit)),
        }
    }
}

/// A URL as a profile keeps it: trimmed, without a trailing slash, http(s) with a host.
fn checked_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| "it must start with https:// (or http://)".to_owned())?;
    if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
        return Err("it needs a host, and no spaces".to_owned());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_preset_fills_its_urls_and_editing_them_makes_it_custom() {
        let mut f = ProfileForm::add();
        assert_eq!(f.service, Service::Preset(Preset::FourOImageApi));
        f.field = Field::Service;
        f.handle(&key(KeyCode::Right));
        assert_eq!(f.service, Service::Preset(Preset::Kie));
        assert_eq!(f.base_url.text(), Preset::Kie.base_url());
        f.field = Field::BaseUrl;
        f.handle(&key(KeyCode::Char('x')));
        assert_eq!(f.service, Service::Custom);
        f.handle(&key(KeyCode::Backspace));
        assert_eq!(f.service, Service::Preset(Preset::Kie));
    }

    #[test]
    fn requests_check_what_was_typed() {
        let mut f = ProfileForm::add();
        f.name = filled("bad name");
        assert!(f.request().is_err());
        assert_eq!(f.field, Field::Name, "the field to fix gets the focus");
        f.name = filled("work");
        f.base_url = filled("ftp://x");
        assert!(f.request().is_err());
        f.base_url = filled("https://example.test/");
        match f.request() {
            Ok(FormRequest::Save(edit)) => {
                assert_eq!(edit.base_url, "https://example.test");
                assert!(!edit.replace);
            }
            other => panic!("a save without a key: {other:?}"),
        }
        f.key = filled("  sk-0123456789abcdef  ");
        assert!(matches!(
            f.request(),
            Ok(FormRequest::Check {
                create: Some(_),
                ..
            })
        ));
        let mut k = ProfileForm::new_key("work");
        assert!(k.request().is_err());
    }
}
