//! The mailer against a real SMTP server on loopback: `tests/support/smtp_sink.py` (aiosmtpd,
//! installed by `scripts/test`) writes each mail it receives as one JSON line.

#[path = "support/sink.rs"]
mod sink;

use passerelle_server::mail::{MailConfig, MailError, Mailer, OutgoingMail, message_id, transmission_mail};
use serde_json::Value;

use sink::{Sink, header};

fn header_names(mail: &Value) -> Vec<String> {
    mail["headers"].as_array().unwrap().iter().map(|h| h[0].as_str().unwrap().to_ascii_lowercase()).collect()
}

#[tokio::test]
async fn sends_transmissions_to_a_real_smtp_server() {
    let sink = Sink::start(None);
    let mailer = Mailer::new(sink.config()).unwrap();
    mailer.check().await.unwrap();
    assert_eq!(mailer.domain(), "passerelle.example");

    let (subject, text) = transmission_mail(
        "Stage développeur·se web — été",
        Some("Atelier Numérique"),
        Some("https://emplois.example/offres/12"),
        "Vous développerez des interfaces accessibles.\nStage de 6 mois à Lyon.",
        "BUT Informatique",
        Some("IUT de Lyon"),
        Some("Nous cherchons deux stagiaires.\n.\nUne ligne faite d'un point, pour voir."),
        "Claire Martin",
    );
    let first = OutgoingMail {
        to: "contact@iut-lyon.example".into(),
        to_name: Some("Secrétariat du département".into()),
        subject: subject.clone(),
        text: text.clone(),
        message_id: message_id("offer-12", "programme-7", mailer.domain()),
        reply_to: Some("Claire Martin <claire@atelier.example>".into()),
    };
    mailer.send(&first).await.unwrap();

    // Header injection through every header value a caller fills from posted or crawled text.
    let second = OutgoingMail {
        to: "scolarite@ecole.example".into(),
        to_name: Some("Eve\r\nBcc: evil@attacker.example".into()),
        subject: "Offre spéciale\r\nBcc: evil@attacker.example\r\nX-Injected: yes".into(),
        text: "Corps\r\navec des fins de ligne CRLF\rseules\n".into(),
        message_id: message_id("offer-13", "programme-7", mailer.domain()),
        reply_to: Some("rh@entreprise.example\nBcc: evil@attacker.example".into()),
    };
    let sent = mailer.send(&second).await;
    // The Reply-To with a line break inside the address is refused, naming the address.
    match sent {
        Err(MailError::Address { field: "reply_to", ref value, .. }) => assert!(value.contains("rh@entreprise.example"), "{value}"),
        other => panic!("expected a reply_to address error, got {other:?}"),
    }
    let second = OutgoingMail { reply_to: Some("Recrutement\r\nBcc: evil@attacker.example <rh@entreprise.example>".into()), ..second };
    mailer.send(&second).await.unwrap();

    let mails = sink.mails();
    assert_eq!(mails.len(), 2, "{mails:#?}");

    let m = &mails[0];
    assert_eq!(m["mail_from"], "no-reply@passerelle.example");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["contact@iut-lyon.example"]));
    assert_eq!(header(m, "subject"), [subject.as_str()]);
    assert_eq!(header(m, "subject"), ["Une offre pour les étudiants de BUT Informatique : Stage développeur·se web — été"]);
    assert_eq!(header(m, "message-id"), ["<offer-12.programme-7@passerelle.example>"]);
    assert_eq!(header(m, "to"), ["Secrétariat du département <contact@iut-lyon.example>"]);
    assert_eq!(header(m, "from"), ["passerelle <no-reply@passerelle.example>"]);
    assert_eq!(header(m, "reply-to"), ["Claire Martin <claire@atelier.example>"]);
    assert_eq!(header(m, "date").len(), 1);
    assert!(header(m, "content-type")[0].starts_with("text/plain"), "{:?}", header(m, "content-type"));
    let body = m["body"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(body.trim_end(), text.trim_end(), "the body arrives as written");
    assert!(body.contains("Claire Martin vous transmet une offre pour les étudiants de BUT Informatique (IUT de Lyon)."), "{body}");
    assert!(body.contains("\n.\n"), "a line of one dot survives the SMTP dot-stuffing: {body}");
    assert!(body.contains("Vous recevez ce message parce que"), "{body}");

    let m = &mails[1];
    assert_eq!(m["rcpt_tos"], serde_json::json!(["scolarite@ecole.example"]), "no Bcc recipient was added");
    let names = header_names(m);
    assert!(!names.iter().any(|n| n == "bcc" || n == "x-injected"), "{names:?}\n{}", m["data"]);
    for name in ["subject", "to", "reply-to", "from", "message-id"] {
        assert_eq!(names.iter().filter(|n| *n == name).count(), 1, "{name} once in {names:?}");
    }
    assert_eq!(header(m, "subject"), ["Offre spéciale Bcc: evil@attacker.example X-Injected: yes"]);
    assert_eq!(header(m, "to"), ["\"Eve Bcc: evil@attacker.example\" <scolarite@ecole.example>"]);
    assert_eq!(header(m, "reply-to"), ["\"Recrutement Bcc: evil@attacker.example\" <rh@entreprise.example>"]);
    assert_eq!(header(m, "message-id"), ["<offer-13.programme-7@passerelle.example>"]);
    assert_eq!(m["body"].as_str().unwrap().replace("\r\n", "\n").trim_end(), "Corps\navec des fins de ligne CRLF\nseules");

    // The same transmission sent again after a crash carries the same Message-ID.
    mailer.send(&first).await.unwrap();
    let mails = sink.mails();
    assert_eq!(header(&mails[2], "message-id"), header(&mails[0], "message-id"));
}

#[tokio::test]
async fn logs_in_when_configured_and_reports_refusals() {
    let sink = Sink::start(Some("passerelle:s3cret"));
    let mail = OutgoingMail {
        to: "contact@ecole.example".into(),
        to_name: None,
        subject: "Connexion".into(),
        text: "Bonjour".into(),
        message_id: message_id("o", "p", "passerelle.example"),
        reply_to: None,
    };

    let good = MailConfig { username: Some("passerelle".into()), password: Some("s3cret".into()), ..sink.config() };
    Mailer::new(good).unwrap().send(&mail).await.unwrap();
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["login"], "passerelle");

    let wrong = MailConfig { username: Some("passerelle".into()), password: Some("wrong".into()), ..sink.config() };
    let e = Mailer::new(wrong).unwrap().send(&mail).await.unwrap_err();
    assert!(matches!(e, MailError::Send { .. }), "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{}", sink.port)), "{e}");
    assert!(e.is_permanent(), "a refused login is not worth retrying as is: {e}");
    assert_eq!(sink.mails().len(), 1);

    // Nobody listening: an error to retry later, not a permanent one.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = Mailer::new(MailConfig { port: closed, ..sink.config() }).unwrap().send(&mail).await.unwrap_err();
    assert!(!e.is_permanent(), "{e}");
}
