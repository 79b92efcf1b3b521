//! Sending one transmission by SMTP (lettre, on tokio, rustls with aws-lc-rs).
//!
//! A transmission carries an offer to the contact of a programme. Its texts come from crawled
//! pages and from what a recruiter posted, so nothing in them is trusted: every header value has
//! its line breaks and other control characters replaced by spaces (no `\r\nBcc:` can add a
//! header), and every address is parsed by lettre before anything is sent, an unparsable one
//! being a [`MailError::Address`] naming it.
//!
//! The Message-ID is made from the offer and the programme ([`message_id`]), so that a mail sent
//! again after a crash carries the same id and mail clients can drop the duplicate.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use crate::config::Security;
use crate::config::SmtpConfig;

/// Longest subject kept, in characters; a longer one is cut with `…`.
const MAX_SUBJECT_CHARS: usize = 180;
/// Longest offer excerpt kept in a transmission, in characters.
const MAX_EXCERPT_CHARS: usize = 1500;
/// Longest recruiter message kept in a transmission, in characters.
const MAX_MESSAGE_CHARS: usize = 4000;

/// Where and how to send: the `[smtp]` section with the password read from its variable.
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// The SMTP server's host name or address (also the name its TLS certificate must carry).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The sender, `Name <address>` or `address`.
    pub from: String,
    /// Plain, STARTTLS or TLS.
    pub security: Security,
    /// For SMTP AUTH, with `password`.
    pub username: Option<String>,
    /// For SMTP AUTH, with `username`.
    pub password: Option<String>,
    /// The variable the password was read from, to name it when it is missing.
    pub password_env: Option<String>,
    /// Longest wait for the server at each step.
    pub timeout: Duration,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_env", &self.password_env)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl MailConfig {
    /// The `[smtp]` section, its password read through `env` from the variable `password_env`
    /// names (`|name| std::env::var(name).ok()`). An unset or empty variable leaves `password`
    /// `None`, and [`Mailer::new`] then says which variable to set.
    pub fn from_config(smtp: &SmtpConfig, env: impl Fn(&str) -> Option<String>) -> MailConfig {
        MailConfig {
            host: smtp.host.clone(),
            port: smtp.port,
            from: smtp.from.clone(),
            security: smtp.security,
            username: smtp.username.clone(),
            password: smtp.password_env.as_deref().and_then(&env).filter(|p| !p.is_empty()),
            password_env: smtp.password_env.clone(),
            timeout: smtp.timeout,
        }
    }
}

/// One mail to send. Every field may come from untrusted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The recipient's address.
    pub to: String,
    /// The recipient's name, shown beside the address.
    pub to_name: Option<String>,
    /// The subject (UTF-8).
    pub subject: String,
    /// The plain-text body (UTF-8).
    pub text: String,
    /// The Message-ID, `<left@right>` (see [`message_id`]).
    pub message_id: String,
    /// Where replies go, `Name <address>` or `address`.
    pub reply_to: Option<String>,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration cannot be used (a missing password variable...).
    #[error("mail configuration: {0}")]
    Config(String),
    /// An address does not parse.
    #[error("invalid {field} address \"{value}\": {reason}")]
    Address {
        /// Which one: `from`, `to`, `reply_to`.
        field: &'static str,
        /// The address as given (control characters shown escaped).
        value: String,
        /// What the parser said.
        reason: String,
    },
    /// A header value cannot be used even once cleaned (an empty or malformed Message-ID...).
    #[error("invalid {field}: {reason}")]
    Header {
        /// The header.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The TLS settings cannot be built.
    #[error("SMTP TLS setup for {host}: {source}")]
    Tls {
        /// The server's host.
        host: String,
        /// What lettre said.
        source: lettre::transport::smtp::Error,
    },
    /// The message cannot be assembled.
    #[error("cannot build the mail: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server could not be reached, or refused the mail.
    #[error("SMTP {host}:{port}: {source}")]
    Send {
        /// The server's host.
        host: String,
        /// Its port.
        port: u16,
        /// What lettre said (a reply code when the server answered).
        source: lettre::transport::smtp::Error,
    },
}

impl MailError {
    /// Whether sending this mail again cannot help: the server refused it for good (a 5xx
    /// reply), or the mail itself is wrong. Connection failures, timeouts and 4xx are not.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Send { source, .. } => source.is_permanent(),
            MailError::Config(_) | MailError::Tls { .. } => false,
            MailError::Address { .. } | MailError::Header { .. } | MailError::Build(_) => true,
        }
    }
}

/// Sends mails through one SMTP server; cheap to share (a connection per mail).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("host", &self.host).field("port", &self.port).field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// A mailer for this server; nothing is connected until [`Mailer::send`].
    pub fn new(config: MailConfig) -> Result<Mailer, MailError> {
        let from = parse_mailbox("from", &config.from)?;
        let tls = match config.security {
            Security::None => Tls::None,
            Security::Starttls | Security::Tls => {
                let parameters = TlsParameters::new(config.host.clone()).map_err(|source| MailError::Tls { host: config.host.clone(), source })?;
                if config.security == Security::Tls { Tls::Wrapper(parameters) } else { Tls::Required(parameters) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone()).port(config.port).tls(tls).timeout(Some(config.timeout));
        match (config.username, config.password) {
            (Some(username), Some(password)) => builder = builder.credentials(Credentials::new(username, password)),
            (None, None) => {}
            (Some(_), None) => {
                return Err(MailError::Config(match &config.password_env {
                    Some(var) => format!("[smtp] password_env names {var}, which is not set (or empty): set it to the SMTP password"),
                    None => "an SMTP username needs a password: set [smtp] password_env".into(),
                }));
            }
            (None, Some(_)) => return Err(MailError::Config("an SMTP password needs a username: set [smtp] username".into())),
        }
        Ok(Mailer { transport: builder.build(), from, host: config.host, port: config.port })
    }

    /// The domain of the sender's address (`example.org` for `no-reply@example.org`), for
    /// [`message_id`].
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Connects and says hello (and logs in, with credentials) without sending anything.
    pub async fn check(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Config(format!("SMTP {}:{} did not answer as an SMTP server", self.host, self.port))),
            Err(source) => Err(MailError::Send { host: self.host.clone(), port: self.port, source }),
        }
    }

    /// Sends one mail, or says why not ([`MailError::is_permanent`]: whether to try again).
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        self.transport.send(message).await.map_err(|source| MailError::Send { host: self.host.clone(), port: self.port, source })?;
        Ok(())
    }

    /// The message [`Mailer::send`] sends, every header value cleaned.
    fn build(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let to = parse_address("to", &mail.to)?;
        let to_name = mail.to_name.as_deref().map(header_value).filter(|name| !name.is_empty());
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(to_name, to))
            .subject(cut(&header_value(&mail.subject), MAX_SUBJECT_CHARS))
            .message_id(Some(check_message_id(&mail.message_id)?))
            .header(ContentType::TEXT_PLAIN);
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(parse_mailbox("reply_to", reply_to)?);
        }
        Ok(builder.body(body_text(&mail.text))?)
    }
}

/// A header value on one line: every control character (CR, LF, tab, NEL...) becomes a space,
/// runs of spaces one space, trimmed.
pub fn header_value(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A body with `\n` line ends and no other control character than tab.
fn body_text(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n").chars().filter(|&c| c == '\n' || c == '\t' || !c.is_control()).collect()
}

fn shown(value: &str) -> String {
    let escaped: String = value.chars().flat_map(char::escape_debug).take(200).collect();
    escaped
}

fn parse_address(field: &'static str, value: &str) -> Result<Address, MailError> {
    let bad = |reason: String| MailError::Address { field, value: shown(value), reason };
    if value.chars().any(char::is_control) {
        return Err(bad("contains a line break or control character".into()));
    }
    value.trim().parse::<Address>().map_err(|e| bad(e.to_string()))
}

/// `Name <address>` or `address`; the name is cleaned like any header value.
pub(crate) fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MailError> {
    let bad = |reason: String| MailError::Address { field, value: shown(value), reason };
    let cleaned = header_value(value);
    match cleaned.rsplit_once('<') {
        Some((name, rest)) => {
            let address = rest.strip_suffix('>').ok_or_else(|| bad("`<` without a closing `>`".into()))?;
            let address = parse_address(field, address.trim())?;
            let name = name.trim().trim_matches('"').trim();
            Ok(Mailbox::new((!name.is_empty()).then(|| name.to_string()), address))
        }
        None => Ok(Mailbox::new(None, parse_address(field, &cleaned)?)),
    }
}

/// `<left@right>`, one line, no spaces.
fn check_message_id(id: &str) -> Result<String, MailError> {
    let id = header_value(id);
    let inner = id.strip_prefix('<').and_then(|s| s.strip_suffix('>'));
    let valid = inner.is_some_and(|inner| {
        inner.split_once('@').is_some_and(|(left, right)| !left.is_empty() && !right.is_empty() && !right.contains('@'))
            && inner.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '(' | ')' | ',' | ';' | ':' | '[' | ']'))
    });
    if valid { Ok(id) } else { Err(MailError::Header { field: "message_id", reason: format!("{} is not <left@right>", shown(&id)) }) }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    // Cut at a word when one ends in the last fifth.
    if let Some(space) = kept.rfind(' ').filter(|&i| i > kept.len() * 4 / 5) {
        kept.truncate(space);
    }
    kept.truncate(kept.trim_end().len());
    kept.push('…');
    kept
}

/// The Message-ID of the transmission of `offer_id` to `programme_id`: `<offer.programme@domain>`.
/// The same pair always gives the same id; two pairs never the same one (every character outside
/// the few a Message-ID may hold, `.` and `=` included, is written `=XX` per UTF-8 byte).
pub fn message_id(offer_id: &str, programme_id: &str, domain: &str) -> String {
    fn atom(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() || "!#$%&'*+-/?^_`{|}~".contains(c) {
                out.push(c);
            } else {
                let mut bytes = [0; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("={b:02X}"));
                }
            }
        }
        if out.is_empty() { "=".to_string() } else { out }
    }
    let domain: String = domain.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).collect();
    let domain = domain.trim_matches(['.', '-']);
    let domain = if domain.is_empty() { "passerelle.invalid" } else { domain };
    format!("<{}.{}@{domain}>", atom(offer_id), atom(programme_id))
}

/// The subject and plain-text body (French) of the mail carrying an offer to the contact of a
/// programme: the offer (title, company, its page when it is an `http(s)` URL, the beginning of
/// its text), the recruiter's message, and why the recipient receives it. Every text is
/// untrusted: single-line ones are cleaned like header values, long ones cut.
#[allow(clippy::too_many_arguments)]
pub fn transmission_mail(
    offer_title: &str,
    offer_company: Option<&str>,
    offer_url: Option<&str>,
    offer_text_excerpt: &str,
    programme_title: &str,
    school_name: Option<&str>,
    message: Option<&str>,
    sender_name: &str,
) -> (String, String) {
    let line = |s: &str| header_value(s);
    let programme = line(programme_title);
    let programme = if programme.is_empty() { "votre formation".to_string() } else { programme };
    let title = line(offer_title);
    let sender = line(sender_name);
    let sender = if sender.is_empty() { "Un recruteur".to_string() } else { sender };
    let school = school_name.map(line).filter(|s| !s.is_empty());
    let company = offer_company.map(line).filter(|s| !s.is_empty());
    let url = offer_url.map(line).filter(|u| u.starts_with("https://") || u.starts_with("http://")).filter(|u| !u.contains(' '));

    let subject = if title.is_empty() {
        format!("Une offre pour les étudiants de {programme}")
    } else {
        format!("Une offre pour les étudiants de {programme} : {title}")
    };
    let subject = cut(&subject, MAX_SUBJECT_CHARS);

    let for_whom = match &school {
        Some(school) => format!("{programme} ({school})"),
        None => programme.clone(),
    };
    let mut text = String::new();
    text.push_str("Bonjour,\n\n");
    text.push_str(&format!("{sender} vous transmet une offre pour les étudiants de {for_whom}.\n\n"));
    text.push_str(&format!("{}\n", if title.is_empty() { "Offre sans titre" } else { &title }));
    if let Some(company) = &company {
        text.push_str(&format!("Entreprise : {company}\n"));
    }
    if let Some(url) = &url {
        text.push_str(&format!("Annonce : {url}\n"));
    }
    let excerpt = body_text(offer_text_excerpt);
    let excerpt = excerpt.trim();
    if !excerpt.is_empty() {
        text.push_str(&format!("\n{}\n", cut(excerpt, MAX_EXCERPT_CHARS)));
    }
    if let Some(message) = message.map(body_text) {
        let message = message.trim();
        if !message.is_empty() {
            text.push_str(&format!("\nMessage de {sender} :\n{}\n", cut(message, MAX_MESSAGE_CHARS)));
        }
    }
    text.push_str("\n-- \n");
    text.push_str(&format!(
        "Vous recevez ce message parce que votre adresse est le contact publié de la formation {for_whom} \
         et que {sender} a choisi, sur passerelle, de transmettre cette offre à ses étudiants. \
         Pour y donner suite, adressez-vous directement au recruteur.\n"
    ));
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer() -> Mailer {
        let config = MailConfig {
            host: "127.0.0.1".into(),
            port: 2525,
            from: "passerelle <no-reply@example.org>".into(),
            security: Security::None,
            username: None,
            password: None,
            password_env: None,
            timeout: Duration::from_secs(5),
        };
        Mailer::new(config).unwrap()
    }

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: "contact@ecole.example".into(),
            to_name: Some("Secrétariat".into()),
            subject: "Une offre".into(),
            text: "Bonjour".into(),
            message_id: message_id("o1", "p1", "example.org"),
            reply_to: None,
        }
    }

    fn formatted(mail: &OutgoingMail) -> String {
        String::from_utf8(mailer().build(mail).unwrap().formatted()).unwrap()
    }

    fn headers(text: &str) -> Vec<String> {
        text.split("\r\n\r\n")
            .next()
            .unwrap()
            .split("\r\n")
            .filter(|l| !l.starts_with(' ') && !l.starts_with('\t'))
            .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn header_injection_adds_no_header() {
        let mut m = mail();
        m.subject = "Stage\r\nBcc: evil@example.net".into();
        m.to_name = Some("Eve\nBcc: evil@example.net\r\nX-Evil: 1".into());
        m.reply_to = Some("Recruteur\r\nBcc: evil@example.net <rh@entreprise.example>".into());
        let text = formatted(&m);
        let names = headers(&text);
        assert!(!names.iter().any(|h| h == "bcc" || h == "x-evil"), "{names:?}\n{text}");
        let message = mailer().build(&m).unwrap();
        let to: Vec<String> = message.envelope().to().iter().map(|a| a.to_string()).collect();
        assert_eq!(to, ["contact@ecole.example"]);
    }

    #[test]
    fn bad_addresses_are_named() {
        let mut m = mail();
        m.to = "contact@ecole.example\r\nBcc: x@y".into();
        let e = mailer().build(&m).unwrap_err();
        assert!(matches!(e, MailError::Address { field: "to", .. }), "{e}");
        assert!(e.to_string().starts_with("invalid to address \"contact@ecole.example\\r\\nBcc: x@y\""), "{e}");
        m.to = "pas une adresse".into();
        assert!(mailer().build(&m).unwrap_err().to_string().contains("pas une adresse"));
        let mut m = mail();
        m.reply_to = Some("Jean <jean@>".into());
        assert!(matches!(mailer().build(&m), Err(MailError::Address { field: "reply_to", .. })));
        let config = MailConfig { from: "nobody".into(), ..mailer_config() };
        assert!(matches!(Mailer::new(config), Err(MailError::Address { field: "from", .. })));
        assert!(MailError::Address { field: "to", value: String::new(), reason: String::new() }.is_permanent());
    }

    fn mailer_config() -> MailConfig {
        MailConfig {
            host: "localhost".into(),
            port: 25,
            from: "a@b.example".into(),
            security: Security::None,
            username: None,
            password: None,
            password_env: None,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn message_ids_are_deterministic_and_distinct() {
        assert_eq!(message_id("offer-12", "prog-3", "example.org"), "<offer-12.prog-3@example.org>");
        assert_eq!(message_id("offer-12", "prog-3", "example.org"), message_id("offer-12", "prog-3", "example.org"));
        assert_ne!(message_id("a.b", "c", "d"), message_id("a", "b.c", "d"));
        assert_ne!(message_id("a=2E", "c", "d"), message_id("a.b", "c", "d"));
        for (o, p, d) in [("", "", ""), ("é è\r\n<>@", "x@y", "ex ample.org\r\n"), ("a", "b", "...")] {
            let id = message_id(o, p, d);
            assert!(check_message_id(&id).is_ok(), "{id}");
        }
        assert!(check_message_id("no-brackets@x").is_err());
        assert!(check_message_id("<two@at@x>").is_err());
        assert!(check_message_id("<@x>").is_err());
    }

    #[test]
    fn header_values_are_one_line() {
        assert_eq!(header_value("  a\r\nb\tc\u{85}d  "), "a b c d");
        assert_eq!(header_value("\r\n"), "");
        assert_eq!(body_text("a\r\nb\rc\u{0}d\u{1b}[31m"), "a\nb\ncd[31m");
    }

    #[test]
    fn transmission_text_in_french() {
        let (subject, text) = transmission_mail(
            "Stage développeur web\r\nBcc: x@y",
            Some("Atelier Numérique"),
            Some("https://emplois.example/offres/12"),
            "Vous développerez des interfaces.\r\nStage de 6 mois à Lyon.",
            "BUT Informatique",
            Some("IUT de Lyon"),
            Some("Nous cherchons deux stagiaires."),
            "Claire Martin",
        );
        assert_eq!(subject, "Une offre pour les étudiants de BUT Informatique : Stage développeur web Bcc: x@y");
        assert!(text.starts_with("Bonjour,\n\nClaire Martin vous transmet une offre pour les étudiants de BUT Informatique (IUT de Lyon).\n"), "{text}");
        for part in [
            "Entreprise : Atelier Numérique\n",
            "Annonce : https://emplois.example/offres/12\n",
            "Stage de 6 mois à Lyon.",
            "Message de Claire Martin :\nNous cherchons deux stagiaires.",
            "Vous recevez ce message parce que",
        ] {
            assert!(text.contains(part), "{part:?} not in\n{text}");
        }
        assert!(!text.contains('\r'));

        let (subject, text) = transmission_mail("", None, Some("javascript:alert(1)"), &"mot ".repeat(2000), &"Master ".repeat(100), None, Some(" \r\n "), "");
        assert!(subject.chars().count() <= MAX_SUBJECT_CHARS && subject.ends_with('…'), "{subject}");
        assert!(!text.contains("javascript:"));
        assert!(!text.contains("Message de"));
        assert!(text.contains("Un recruteur vous transmet"));
        assert!(text.chars().count() < MAX_EXCERPT_CHARS + 2000);
    }

    #[test]
    fn password_comes_from_the_named_variable() {
        let smtp = SmtpConfig { username: Some("bot".into()), password_env: Some("SMTP_PASSWORD".into()), ..SmtpConfig::default() };
        let config = MailConfig::from_config(&smtp, |name| (name == "SMTP_PASSWORD").then(|| "s3cret".to_string()));
        assert_eq!(config.password.as_deref(), Some("s3cret"));
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!format!("{:?}", Mailer::new(config).unwrap()).contains("s3cret"));
        let e = Mailer::new(MailConfig::from_config(&smtp, |_| Some(String::new()))).unwrap_err();
        assert!(e.to_string().contains("SMTP_PASSWORD, which is not set"), "{e}");
        let plain = MailConfig::from_config(&SmtpConfig::default(), |_| None);
        assert_eq!((plain.host.as_str(), plain.port, plain.password), ("localhost", 25, None));
    }

    #[test]
    fn tls_modes_build() {
        for security in [Security::None, Security::Starttls, Security::Tls] {
            Mailer::new(MailConfig { security, ..mailer_config() }).unwrap();
        }
    }
}
