//! The server's configuration file, `server.toml`, and the environment variables that override it.
//!
//! Every key is optional; a missing key keeps its default ([`ServerConfig::default`]). A key the
//! server does not know is an error (a misspelt `pubic_scopes` must not silently leave the
//! defaults in force), and so is a value out of range. Every error names the file, the line and
//! column, and the key:
//!
//! ```text
//! server.toml:7:1: unknown key `pubic_scopes` in [server]; known keys: addr, data, ...
//! server.toml:3:25: [limits] per_client_per_minute: must be at least 1
//! ```
//!
//! ```toml
//! [server]
//! addr = "127.0.0.1:7800"
//! data = "./data"
//! request_timeout_secs = 10
//! reload_every_ms = 500
//! max_body_bytes = 262144
//! master_key_env = "PASSERELLE_MASTER_KEY"   # the NAME of the variable holding the master key
//! public_scopes = ["search", "match", "questions", "stats"]
//!
//! [limits]
//! per_client_per_minute = 600     # per client address
//! per_key_per_minute = 1200       # per API key
//! failed_auth_per_minute = 10     # failed key attempts per client address
//!
//! [cors]
//! origins = ["https://www.example.org"]   # empty: no CORS headers
//!
//! [smtp]                                  # absent: transmissions are stored, not mailed
//! host = "127.0.0.1"
//! port = 2525                             # default: 25, 587 (starttls) or 465 (tls)
//! from = "passerelle <no-reply@example.org>"
//! security = "none"                       # none | starttls | tls
//! username = "passerelle"                 # optional, with password_env
//! password_env = "SMTP_PASSWORD"          # the NAME of the variable holding the password
//! timeout_secs = 30
//! ```
//!
//! Secrets are never in the file: `master_key_env` and `password_env` name environment
//! variables, read when needed ([`ServerConfig::master_key`]).
//!
//! Overrides, applied by [`ServerConfig::apply_env`] after the file: `PASSERELLE_ADDR`,
//! `PASSERELLE_DATA`, `PASSERELLE_PUBLIC_SCOPES` and `PASSERELLE_CORS_ORIGINS` (comma lists; empty:
//! none), `PASSERELLE_SMTP_HOST`, `PASSERELLE_SMTP_PORT`, `PASSERELLE_SMTP_FROM` (any of the three
//! turns mailing on with the `[smtp]` defaults for the rest).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

/// Every scope an API key can carry, and so every name `public_scopes` may list.
pub const SCOPES: &[&str] = &["search", "match", "questions", "stats", "offers.write", "questions.write", "export", "transmissions", "keys"];

/// The scopes open without a key unless the file says otherwise.
pub const DEFAULT_PUBLIC_SCOPES: &[&str] = &["search", "match", "questions", "stats"];

/// The variable that holds the master key unless `master_key_env` names another.
pub const DEFAULT_MASTER_KEY_ENV: &str = "PASSERELLE_MASTER_KEY";

/// The whole configuration: the file's sections, defaults filled in, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConfig {
    /// `[server]`: where to listen, where the data is, the request limits, the public scopes.
    pub server: ServerSettings,
    /// `[limits]`: the rate limits.
    pub limits: Limits,
    /// `[cors]`: the browser origins allowed to call the API.
    pub cors: CorsConfig,
    /// `[smtp]`: where transmissions are mailed; `None`: they are stored, not mailed.
    pub smtp: Option<SmtpConfig>,
}

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `addr`: the address to listen on (default `127.0.0.1:7800`).
    pub addr: SocketAddr,
    /// `data`: the data directory (default `./data`).
    pub data: PathBuf,
    /// `request_timeout_secs`: longest time a request may take (default 10 s).
    pub request_timeout: Duration,
    /// `reload_every_ms`: how often the served generation pointer is checked (default 500 ms).
    pub reload_every: Duration,
    /// `max_body_bytes`: largest request body (default 262144).
    pub max_body_bytes: usize,
    /// `master_key_env`: the NAME of the environment variable holding the master key.
    pub master_key_env: String,
    /// `public_scopes`: the scopes open without a key, each one of [`SCOPES`].
    pub public_scopes: Vec<String>,
}

/// The `[limits]` section: requests per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `per_client_per_minute`: per client address (default 600).
    pub per_client_per_minute: NonZeroU32,
    /// `per_key_per_minute`: per API key (default 1200).
    pub per_key_per_minute: NonZeroU32,
    /// `failed_auth_per_minute`: failed key attempts per client address (default 10).
    pub failed_auth_per_minute: NonZeroU32,
}

/// The `[cors]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsConfig {
    /// `origins`: each `http(s)://host[:port]` as a browser sends it; empty: no CORS headers.
    pub origins: Vec<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `none`: plain SMTP (a relay on the same machine or network).
    None,
    /// `starttls`: plain connection upgraded with STARTTLS, which must succeed.
    Starttls,
    /// `tls`: TLS from the first byte (SMTPS).
    Tls,
}

impl Security {
    /// The name in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        }
    }

    /// The usual port: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::Starttls => 587,
            Security::Tls => 465,
        }
    }

    fn parse(name: &str) -> Option<Security> {
        [Security::None, Security::Starttls, Security::Tls].into_iter().find(|s| s.as_str() == name)
    }
}

/// The `[smtp]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// `host`: the SMTP server (default `localhost`).
    pub host: String,
    /// `port`: default [`Security::default_port`].
    pub port: u16,
    /// `from`: the sender, `Name <address>` or `address` (default `passerelle <no-reply@localhost>`).
    pub from: String,
    /// `security`: default [`Security::None`].
    pub security: Security,
    /// `username`: for SMTP AUTH, with `password_env`.
    pub username: Option<String>,
    /// `password_env`: the NAME of the environment variable holding the password.
    pub password_env: Option<String>,
    /// `timeout_secs`: longest wait for the SMTP server (default 30 s).
    pub timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: Security::None.default_port(),
            from: "passerelle <no-reply@localhost>".into(),
            security: Security::None,
            username: None,
            password_env: None,
            timeout: Duration::from_secs(30),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 7800)),
            data: PathBuf::from("./data"),
            request_timeout: Duration::from_secs(10),
            reload_every: Duration::from_millis(500),
            max_body_bytes: 256 * 1024,
            master_key_env: DEFAULT_MASTER_KEY_ENV.into(),
            public_scopes: DEFAULT_PUBLIC_SCOPES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self { per_client_per_minute: nonzero(600), per_key_per_minute: nonzero(1200), failed_auth_per_minute: nonzero(10) }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not TOML, or a key is unknown, of the wrong type or out of range.
    #[error("{origin}{}: {message}", at(*line, *column))]
    Invalid {
        /// The file's name, as given.
        origin: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column (in characters), when known.
        column: Option<usize>,
        /// The dotted key at fault (`limits.per_client_per_minute`), when known.
        key: Option<String>,
        /// What is wrong, naming the key.
        message: String,
    },
    /// An override variable has a value that cannot be used.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable's name.
        var: String,
        /// What is wrong.
        message: String,
    },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

impl ConfigError {
    /// The dotted key at fault, if the error is about one key of the file.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// The 1-based line of the file at fault, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }
}

// The file as written: every key optional, every table closed to unknown keys. Numbers are read
// as i64 so that a negative or zero value gets the same message as any other out-of-range one.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    server: Option<RawServer>,
    limits: Option<RawLimits>,
    cors: Option<RawCors>,
    smtp: Option<RawSmtp>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    addr: Option<String>,
    data: Option<String>,
    request_timeout_secs: Option<i64>,
    reload_every_ms: Option<i64>,
    max_body_bytes: Option<i64>,
    master_key_env: Option<String>,
    public_scopes: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    per_client_per_minute: Option<i64>,
    per_key_per_minute: Option<i64>,
    failed_auth_per_minute: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCors {
    origins: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: Option<String>,
    port: Option<i64>,
    from: Option<String>,
    security: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    timeout_secs: Option<i64>,
}

/// The document being read: its text and its parsed tree, to turn a byte offset or a key path
/// into `file:line:column`.
struct Source<'a> {
    origin: &'a str,
    text: &'a str,
    doc: &'a DeTable<'a>,
}

impl Source<'_> {
    fn error_at(&self, span: Option<Range<usize>>, key: Option<String>, message: String) -> ConfigError {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = line_column(self.text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        ConfigError::Invalid { origin: self.origin.to_string(), line, column, key, message }
    }

    /// An error about the value of `section.key` (or its `index`th element).
    fn invalid(&self, section: &str, key: &str, index: Option<usize>, reason: impl std::fmt::Display) -> ConfigError {
        let span = value_span(self.doc, &[section, key], index);
        self.error_at(span, Some(format!("{section}.{key}")), format!("[{section}] {key}: {reason}"))
    }

    /// Turns a deserialisation error (unknown key, wrong type) into one naming its key.
    fn serde_error(&self, error: &toml::de::Error) -> ConfigError {
        let span = error.span();
        let mut path = Vec::new();
        if let Some(span) = &span {
            path_at(self.doc, span.start, &mut path);
        }
        let message = error.message().trim().to_string();
        if let Some((unknown, known)) = unknown_field(&message) {
            let (section, key) = match path.split_last() {
                Some((last, section)) if *last == unknown => (section.join("."), Some(path.join("."))),
                _ => (path.join("."), None),
            };
            let text = if section.is_empty() {
                format!("unknown section `{unknown}`; known sections: {known}")
            } else {
                format!("unknown key `{unknown}` in [{section}]; known keys: {known}")
            };
            return self.error_at(span, key.or(Some(unknown)), text);
        }
        let text = match path.split_last() {
            Some((key, section)) if !section.is_empty() => format!("[{}] {key}: {message}", section.join(".")),
            Some((key, _)) => format!("{key}: {message}"),
            None => message,
        };
        self.error_at(span, (!path.is_empty()).then(|| path.join(".")), text)
    }
}

/// `unknown field `x`, expected one of `a`, `b`` (serde's words) as (`x`, "a, b").
fn unknown_field(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let known: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    Some((name.to_string(), if known.is_empty() { "none".to_string() } else { known.join(", ") }))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The keys leading to the byte offset `pos` (a key's name or a scalar value), outermost first.
fn path_at(table: &DeTable<'_>, pos: usize, path: &mut Vec<String>) -> bool {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        if key.span().contains(&pos) || in_value(value, pos, path) {
            return true;
        }
        path.pop();
    }
    false
}

fn in_value(value: &toml::Spanned<DeValue<'_>>, pos: usize, path: &mut Vec<String>) -> bool {
    match value.get_ref() {
        // A table's span may be only its header: look inside whatever it says.
        DeValue::Table(table) => path_at(table, pos, path) || value.span().contains(&pos),
        DeValue::Array(items) => items.iter().any(|item| in_value(item, pos, path)) || value.span().contains(&pos),
        _ => value.span().contains(&pos),
    }
}

/// Where the value of a key path is written (or its `index`th element), else its key.
fn value_span(doc: &DeTable<'_>, path: &[&str], index: Option<usize>) -> Option<Range<usize>> {
    let (last, parents) = path.split_last()?;
    let mut table = doc;
    for name in parents {
        match table.get(*name)?.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    let value = table.get(*last)?;
    if let (Some(index), DeValue::Array(items)) = (index, value.get_ref())
        && let Some(item) = items.get(index)
    {
        return Some(item.span());
    }
    Some(value.span())
}

impl ServerConfig {
    /// Reads and validates a `server.toml`; its path names it in errors.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates the text of a `server.toml`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ServerConfig, ConfigError> {
        let doc = DeTable::parse(text).map_err(|error| {
            let (line, column) = match error.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    (Some(line), Some(column))
                }
                None => (None, None),
            };
            ConfigError::Invalid { origin: origin.to_string(), line, column, key: None, message: format!("not valid TOML: {}", error.message().trim()) }
        })?;
        let tree = doc.get_ref().clone();
        let source = Source { origin, text, doc: &tree };
        let raw = RawFile::deserialize(toml::de::Deserializer::from(doc)).map_err(|error| source.serde_error(&error))?;
        build(&source, raw)
    }

    /// Applies the `PASSERELLE_*` overrides read through `env` (`|name| std::env::var(name).ok()`).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let fail = |var: &str, message: String| ConfigError::Env { var: var.to_string(), message };
        if let Some(value) = env("PASSERELLE_ADDR") {
            self.server.addr = parse_addr(value.trim()).map_err(|m| fail("PASSERELLE_ADDR", m))?;
        }
        if let Some(value) = env("PASSERELLE_DATA") {
            if value.trim().is_empty() {
                return Err(fail("PASSERELLE_DATA", "is empty; give the data directory".into()));
            }
            self.server.data = PathBuf::from(value.trim());
        }
        if let Some(value) = env("PASSERELLE_PUBLIC_SCOPES") {
            let scopes = comma_list(&value);
            for scope in &scopes {
                check_scope(scope).map_err(|m| fail("PASSERELLE_PUBLIC_SCOPES", m))?;
            }
            self.server.public_scopes = dedup(scopes);
        }
        if let Some(value) = env("PASSERELLE_CORS_ORIGINS") {
            let origins = comma_list(&value);
            for origin in &origins {
                check_origin(origin).map_err(|m| fail("PASSERELLE_CORS_ORIGINS", m))?;
            }
            self.cors.origins = dedup(origins);
        }
        let host = env("PASSERELLE_SMTP_HOST");
        let port = env("PASSERELLE_SMTP_PORT");
        let from = env("PASSERELLE_SMTP_FROM");
        if host.is_some() || port.is_some() || from.is_some() {
            let smtp = self.smtp.get_or_insert_with(SmtpConfig::default);
            if let Some(host) = host {
                smtp.host = check_host(host.trim()).map_err(|m| fail("PASSERELLE_SMTP_HOST", m))?;
            }
            if let Some(port) = port {
                let port = port.trim().parse::<i64>().map_err(|_| fail("PASSERELLE_SMTP_PORT", format!("{port:?} is not a port number (1-65535)")))?;
                smtp.port = check_port(port).map_err(|m| fail("PASSERELLE_SMTP_PORT", m))?;
            }
            if let Some(from) = from {
                smtp.from = check_mailbox(from.trim()).map_err(|m| fail("PASSERELLE_SMTP_FROM", m))?;
            }
        }
        Ok(())
    }

    /// The master key: the value of the variable named by `master_key_env`, trimmed; `None` when
    /// it is unset or empty (then no master key is accepted).
    pub fn master_key(&self, env: impl Fn(&str) -> Option<String>) -> Option<String> {
        env(&self.server.master_key_env).map(|key| key.trim().to_string()).filter(|key| !key.is_empty())
    }
}

fn build(source: &Source<'_>, raw: RawFile) -> Result<ServerConfig, ConfigError> {
    let mut config = ServerConfig::default();
    let server = raw.server.unwrap_or_default();
    let s = "server";
    if let Some(addr) = server.addr {
        config.server.addr = parse_addr(&addr).map_err(|m| source.invalid(s, "addr", None, m))?;
    }
    if let Some(data) = server.data {
        if data.trim().is_empty() {
            return Err(source.invalid(s, "data", None, "is empty; give the data directory"));
        }
        config.server.data = PathBuf::from(data);
    }
    if let Some(secs) = server.request_timeout_secs {
        config.server.request_timeout = Duration::from_secs(in_range(secs, 1, 3600).map_err(|m| source.invalid(s, "request_timeout_secs", None, m))?);
    }
    if let Some(ms) = server.reload_every_ms {
        config.server.reload_every = Duration::from_millis(in_range(ms, 10, 3_600_000).map_err(|m| source.invalid(s, "reload_every_ms", None, m))?);
    }
    if let Some(bytes) = server.max_body_bytes {
        let bytes = in_range(bytes, 1, 1 << 30).map_err(|m| source.invalid(s, "max_body_bytes", None, m))?;
        config.server.max_body_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    if let Some(name) = server.master_key_env {
        config.server.master_key_env = check_env_name(&name).map_err(|m| source.invalid(s, "master_key_env", None, m))?;
    }
    if let Some(scopes) = server.public_scopes {
        for (i, scope) in scopes.iter().enumerate() {
            check_scope(scope).map_err(|m| source.invalid(s, "public_scopes", Some(i), m))?;
        }
        config.server.public_scopes = dedup(scopes);
    }

    let limits = raw.limits.unwrap_or_default();
    let per_minute = |value: Option<i64>, key: &str, default: NonZeroU32| -> Result<NonZeroU32, ConfigError> {
        match value {
            None => Ok(default),
            Some(n) => {
                in_range(n, 1, i64::from(u32::MAX)).map(|n| nonzero(u32::try_from(n).unwrap_or(u32::MAX))).map_err(|m| source.invalid("limits", key, None, m))
            }
        }
    };
    config.limits = Limits {
        per_client_per_minute: per_minute(limits.per_client_per_minute, "per_client_per_minute", config.limits.per_client_per_minute)?,
        per_key_per_minute: per_minute(limits.per_key_per_minute, "per_key_per_minute", config.limits.per_key_per_minute)?,
        failed_auth_per_minute: per_minute(limits.failed_auth_per_minute, "failed_auth_per_minute", config.limits.failed_auth_per_minute)?,
    };

    if let Some(origins) = raw.cors.and_then(|c| c.origins) {
        for (i, origin) in origins.iter().enumerate() {
            check_origin(origin).map_err(|m| source.invalid("cors", "origins", Some(i), m))?;
        }
        config.cors.origins = dedup(origins);
    }

    if let Some(raw) = raw.smtp {
        let m = "smtp";
        let mut smtp = SmtpConfig::default();
        if let Some(security) = raw.security {
            smtp.security =
                Security::parse(&security).ok_or_else(|| source.invalid(m, "security", None, format!("`{security}` is not one of none, starttls, tls")))?;
        }
        smtp.port = match raw.port {
            Some(port) => check_port(port).map_err(|e| source.invalid(m, "port", None, e))?,
            None => smtp.security.default_port(),
        };
        if let Some(host) = raw.host {
            smtp.host = check_host(&host).map_err(|e| source.invalid(m, "host", None, e))?;
        }
        if let Some(from) = raw.from {
            smtp.from = check_mailbox(&from).map_err(|e| source.invalid(m, "from", None, e))?;
        }
        if let Some(secs) = raw.timeout_secs {
            smtp.timeout = Duration::from_secs(in_range(secs, 1, 600).map_err(|e| source.invalid(m, "timeout_secs", None, e))?);
        }
        if let Some(name) = raw.password_env {
            smtp.password_env = Some(check_env_name(&name).map_err(|e| source.invalid(m, "password_env", None, e))?);
        }
        if let Some(username) = raw.username {
            if username.is_empty() || username.chars().any(char::is_control) {
                return Err(source.invalid(m, "username", None, "must be a non-empty name without control characters"));
            }
            smtp.username = Some(username);
        }
        match (&smtp.username, &smtp.password_env) {
            (Some(_), None) => return Err(source.invalid(m, "username", None, "is set but password_env is not: name the variable holding the password")),
            (None, Some(_)) => return Err(source.invalid(m, "password_env", None, "is set but username is not")),
            _ => {}
        }
        config.smtp = Some(smtp);
    }
    Ok(config)
}

fn in_range(n: i64, min: i64, max: i64) -> Result<u64, String> {
    if n < min {
        Err(format!("must be at least {min}"))
    } else if n > max {
        Err(format!("must be at most {max}"))
    } else {
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| format!("{text:?} is not an address and port (e.g. 127.0.0.1:7800 or [::1]:7800)"))
}

fn check_port(port: i64) -> Result<u16, String> {
    in_range(port, 1, 65535).map(|p| u16::try_from(p).unwrap_or(u16::MAX))
}

fn check_host(host: &str) -> Result<String, String> {
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | ':')) {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    Ok(host.to_string())
}

fn check_mailbox(from: &str) -> Result<String, String> {
    crate::mail::parse_mailbox("from", from).map(|_| from.to_string()).map_err(|e| format!("{from:?} is not `Name <address>` or `address`: {e}"))
}

fn check_scope(scope: &str) -> Result<(), String> {
    if SCOPES.contains(&scope) { Ok(()) } else { Err(format!("unknown scope `{scope}`; known scopes: {}", SCOPES.join(", "))) }
}

/// A variable name: letters, digits and `_`, not starting with a digit. The value is never
/// echoed: an operator who wrote the secret itself here must not see it in a log.
fn check_env_name(name: &str) -> Result<String, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid { Ok(name.to_string()) } else { Err("must be the NAME of an environment variable (letters, digits, _), not the secret itself".into()) }
}

/// An origin as a browser sends it: `http(s)://host[:port]`, lower case, no default port, no
/// path, no trailing slash.
fn check_origin(origin: &str) -> Result<(), String> {
    let bad = || format!("`{origin}` is not an origin `http(s)://host[:port]`");
    let url = url::Url::parse(origin).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad());
    }
    let canonical = url.origin().ascii_serialization();
    if canonical == origin {
        return Ok(());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{origin}` has a path, query or fragment; an origin is only `http(s)://host[:port]` (here `{canonical}`)"));
    }
    Err(format!("`{origin}` is not written as browsers send it; write `{canonical}`"))
}

fn comma_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|item| seen.insert(item.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const GOOD: &str = r#"
[server]
addr = "0.0.0.0:8080"
data = "/var/lib/passerelle"
request_timeout_secs = 5
max_body_bytes = 1024
master_key_env = "MY_KEY"
public_scopes = ["search", "stats"]

[limits]
per_client_per_minute = 60
per_key_per_minute = 120
failed_auth_per_minute = 3

[cors]
origins = ["https://www.example.org", "http://localhost:3000"]

[smtp]
host = "127.0.0.1"
port = 2525
from = "passerelle <no-reply@example.org>"
security = "starttls"
username = "bot"
password_env = "SMTP_PASSWORD"
"#;

    fn err(text: &str) -> ConfigError {
        match ServerConfig::parse(text, "server.toml") {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(e) => e,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn good_file() {
        let config = ServerConfig::parse(GOOD, "server.toml").unwrap();
        assert_eq!(config.server.addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.server.data, PathBuf::from("/var/lib/passerelle"));
        assert_eq!(config.server.request_timeout, Duration::from_secs(5));
        assert_eq!(config.server.reload_every, Duration::from_millis(500));
        assert_eq!(config.server.max_body_bytes, 1024);
        assert_eq!(config.server.public_scopes, ["search", "stats"]);
        assert_eq!(config.limits.per_client_per_minute.get(), 60);
        assert_eq!(config.limits.per_key_per_minute.get(), 120);
        assert_eq!(config.limits.failed_auth_per_minute.get(), 3);
        assert_eq!(config.cors.origins, ["https://www.example.org", "http://localhost:3000"]);
        let smtp = config.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("127.0.0.1", 2525, Security::Starttls));
        assert_eq!(smtp.username.as_deref(), Some("bot"));
        assert_eq!(smtp.password_env.as_deref(), Some("SMTP_PASSWORD"));
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let config = ServerConfig::parse("# nothing\n", "server.toml").unwrap();
        assert_eq!(config, ServerConfig::default());
        assert_eq!(config.server.public_scopes, DEFAULT_PUBLIC_SCOPES);
        assert!(config.smtp.is_none());
        assert!(config.cors.origins.is_empty());
        let smtp = ServerConfig::parse("[smtp]\nsecurity = \"tls\"\n", "server.toml").unwrap().smtp.unwrap();
        assert_eq!(smtp.port, 465);
    }

    #[test]
    fn unknown_key_names_file_line_key_and_known_keys() {
        let e = err("[server]\naddr = \"127.0.0.1:1\"\n\n# comment\n\n\npubic_scopes = [\"search\"]\n");
        let text = e.to_string();
        assert!(text.starts_with("server.toml:7:1: unknown key `pubic_scopes` in [server]; known keys: addr, data, "), "{text}");
        assert!(text.contains("public_scopes"), "{text}");
        assert_eq!(e.key(), Some("server.pubic_scopes"));
        let e = err("[limits]\nper_client_per_minute = 1\n[serveur]\naddr = \"x\"\n");
        assert!(e.to_string().starts_with("server.toml:3:2: unknown section `serveur`; known sections: server, limits, cors, smtp"), "{e}");
        let e = err("[smtp]\nhost = \"h\"\npasword_env = \"X\"\n");
        assert!(e.to_string().starts_with("server.toml:3:1: unknown key `pasword_env` in [smtp]"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = err("[server]\nrequest_timeout_secs = \"10\"\n");
        let text = e.to_string();
        assert!(text.starts_with("server.toml:2:24: [server] request_timeout_secs: invalid type: string"), "{text}");
        assert_eq!(e.key(), Some("server.request_timeout_secs"));
        let e = err("[server]\npublic_scopes = [\"search\", 3]\n");
        assert!(e.to_string().starts_with("server.toml:2:28: [server] public_scopes: invalid type: integer"), "{e}");
        let e = err("server = 3\n");
        assert!(e.to_string().starts_with("server.toml:1:10: server: invalid type"), "{e}");
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = err("[server]\naddr = = 1\n");
        assert!(e.to_string().starts_with("server.toml:2:8: not valid TOML:"), "{e}");
        let e = err("[server]\naddr = \"a\"\naddr = \"b\"\n");
        assert!(e.to_string().starts_with("server.toml:3:1: not valid TOML: duplicate key"), "{e}");
    }

    #[test]
    fn bad_scope() {
        let e = err("[server]\n\npublic_scopes = [\"search\", \"serch\"]\n");
        let text = e.to_string();
        assert!(text.starts_with("server.toml:3:28: [server] public_scopes: unknown scope `serch`; known scopes: search, match,"), "{text}");
        assert_eq!(e.key(), Some("server.public_scopes"));
        // Every scope may be made public, the writing ones too.
        let all = format!("[server]\npublic_scopes = [{}]\n", SCOPES.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", "));
        assert_eq!(ServerConfig::parse(&all, "server.toml").unwrap().server.public_scopes, SCOPES);
        assert!(ServerConfig::parse("[server]\npublic_scopes = []\n", "s").unwrap().server.public_scopes.is_empty());
    }

    #[test]
    fn bad_origin() {
        for (origin, says) in [
            ("https://www.example.org/", "write `https://www.example.org`"),
            ("https://www.example.org/app", "has a path"),
            ("ftp://example.org", "is not an origin"),
            ("www.example.org", "is not an origin"),
            ("https://WWW.example.org", "write `https://www.example.org`"),
            ("https://example.org:443", "write `https://example.org`"),
            ("https://user@example.org", "is not an origin"),
        ] {
            let e = err(&format!("[cors]\norigins = [\"https://ok.example.org\", \"{origin}\"]\n"));
            let text = e.to_string();
            assert!(text.starts_with("server.toml:2:38: [cors] origins: "), "{origin}: {text}");
            assert!(text.contains(says), "{origin}: {text}");
        }
        for origin in ["http://localhost:3000", "https://[::1]:8443", "http://127.0.0.1"] {
            assert!(check_origin(origin).is_ok(), "{origin}");
        }
    }

    #[test]
    fn zero_and_negative_limits() {
        let e = err("[limits]\nper_key_per_minute = 5\n\nper_client_per_minute = 0\n");
        assert_eq!(e.to_string(), "server.toml:4:25: [limits] per_client_per_minute: must be at least 1");
        assert_eq!(e.line(), Some(4));
        let e = err("[limits]\nfailed_auth_per_minute = -3\n");
        assert_eq!(e.to_string(), "server.toml:2:26: [limits] failed_auth_per_minute: must be at least 1");
        let e = err("[limits]\nper_key_per_minute = 99999999999\n");
        assert!(e.to_string().contains("must be at most 4294967295"), "{e}");
        let e = err("[server]\nrequest_timeout_secs = 0\n");
        assert!(e.to_string().contains("[server] request_timeout_secs: must be at least 1"), "{e}");
    }

    #[test]
    fn smtp_mistakes() {
        let e = err("[smtp]\nport = 0\n");
        assert_eq!(e.to_string(), "server.toml:2:8: [smtp] port: must be at least 1");
        let e = err("[smtp]\nsecurity = \"ssl\"\n");
        assert!(e.to_string().starts_with("server.toml:2:12: [smtp] security: `ssl` is not one of none, starttls, tls"), "{e}");
        let e = err("[smtp]\nfrom = \"not an address\"\n");
        assert!(e.to_string().starts_with("server.toml:2:8: [smtp] from:"), "{e}");
        let e = err("[smtp]\nusername = \"bot\"\n");
        assert!(e.to_string().contains("[smtp] username: is set but password_env is not"), "{e}");
        // A secret written where its variable's name belongs is refused and not echoed.
        let e = err("[smtp]\nusername = \"bot\"\npassword_env = \"hunter2-s3cret!\"\n");
        assert!(e.to_string().contains("[smtp] password_env: must be the NAME"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = err("[server]\nmaster_key_env = \"pk-abc.def\"\n");
        assert!(!e.to_string().contains("pk-abc"), "{e}");
    }

    #[test]
    fn bad_addr() {
        let e = err("[server]\naddr = \"localhost\"\n");
        assert!(e.to_string().starts_with("server.toml:2:8: [server] addr: \"localhost\" is not an address and port"), "{e}");
    }

    #[test]
    fn env_overrides() {
        let mut config = ServerConfig::parse(GOOD, "server.toml").unwrap();
        config
            .apply_env(env(&[
                ("PASSERELLE_ADDR", "127.0.0.1:9000"),
                ("PASSERELLE_DATA", "/tmp/data"),
                ("PASSERELLE_PUBLIC_SCOPES", "search, match,,questions"),
                ("PASSERELLE_CORS_ORIGINS", ""),
                ("PASSERELLE_SMTP_HOST", "mail.example.org"),
                ("PASSERELLE_SMTP_PORT", "587"),
            ]))
            .unwrap();
        assert_eq!(config.server.addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.server.data, PathBuf::from("/tmp/data"));
        assert_eq!(config.server.public_scopes, ["search", "match", "questions"]);
        assert!(config.cors.origins.is_empty());
        let smtp = config.smtp.as_ref().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("mail.example.org", 587, Security::Starttls));

        // No [smtp] in the file: an SMTP variable turns mailing on with the defaults.
        let mut config = ServerConfig::default();
        config.apply_env(env(&[("PASSERELLE_SMTP_PORT", "2525"), ("PASSERELLE_CORS_ORIGINS", "https://a.example.org,http://b.example.org:8080")])).unwrap();
        assert_eq!(config.smtp.as_ref().map(|s| (s.host.as_str(), s.port)), Some(("localhost", 2525)));
        assert_eq!(config.cors.origins, ["https://a.example.org", "http://b.example.org:8080"]);

        let mut config = ServerConfig::default();
        config.apply_env(env(&[])).unwrap();
        assert_eq!(config, ServerConfig::default());
    }

    #[test]
    fn bad_env_overrides_name_the_variable() {
        for (var, value, says) in [
            ("PASSERELLE_ADDR", "nowhere", "is not an address"),
            ("PASSERELLE_DATA", " ", "is empty"),
            ("PASSERELLE_PUBLIC_SCOPES", "search,everything", "unknown scope `everything`"),
            ("PASSERELLE_CORS_ORIGINS", "https://a.example.org/path", "has a path"),
            ("PASSERELLE_SMTP_PORT", "0", "must be at least 1"),
            ("PASSERELLE_SMTP_PORT", "smtp", "is not a port number"),
            ("PASSERELLE_SMTP_HOST", "", "is not a host name"),
        ] {
            let e = ServerConfig::default().apply_env(env(&[(var, value)])).unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with(&format!("environment variable {var}: ")), "{text}");
            assert!(text.contains(says), "{var}={value:?}: {text}");
        }
    }

    #[test]
    fn master_key_from_the_named_variable() {
        let config = ServerConfig::parse("[server]\nmaster_key_env = \"MY_KEY\"\n", "server.toml").unwrap();
        assert_eq!(config.master_key(env(&[("MY_KEY", " k3y\n")])).as_deref(), Some("k3y"));
        assert_eq!(config.master_key(env(&[("MY_KEY", "")])), None);
        assert_eq!(config.master_key(env(&[("PASSERELLE_MASTER_KEY", "other")])), None);
        assert_eq!(ServerConfig::default().master_key(env(&[("PASSERELLE_MASTER_KEY", "m")])).as_deref(), Some("m"));
    }

    #[test]
    fn load_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        let e = ServerConfig::load(&path).unwrap_err();
        assert!(e.to_string().starts_with(&format!("cannot read {}", path.display())), "{e}");
        std::fs::write(&path, "[limits]\nper_key_per_minute = 0\n").unwrap();
        let e = ServerConfig::load(&path).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{}:2:22: [limits] per_key_per_minute", path.display())), "{e}");
        std::fs::write(&path, GOOD).unwrap();
        assert_eq!(ServerConfig::load(&path).unwrap(), ServerConfig::parse(GOOD, "x").unwrap());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "\u{feff}[server]",
            "[server]\naddr = \"é\"\u{0}",
            "a.b.c = 1",
            "[[server]]\naddr = 1",
            "[server]\naddr = \"\u{1F600}\"\nx = 1",
            "\"\"= 1",
            "[smtp]\nhost = \"é\u{301}\"\nfoo = 1",
        ] {
            let _ = ServerConfig::parse(text, "server.toml").map_err(|e| e.to_string());
        }
    }
}
