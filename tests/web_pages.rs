//! The site in headless Chromium, as a person uses it: each page is driven through
//! chromedriver (fantoccini) against `passerelle serve` on the fixtures, and a screenshot of
//! each is saved under `target/screenshots/` (desktop and phone widths).

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, import_fixtures, run_ok};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const MASTER: &str = "web-pages-test-master-key-0123456789";

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is waited for by `Driver`'s drop (or dies with the test when it panics).
#[allow(clippy::zombie_processes)]
fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(crawler::browser::DEFAULT_CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts (scripts/test installs chromium-driver)");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::blocking::get(format!("{url}/status")).is_ok_and(|r| r.status().is_success()) {
            return Driver { child, url };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not answer on port {port}");
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut args: Vec<String> = crawler::browser::CHROMIUM_FLAGS.iter().filter(|f| !f.starts_with("--blink-settings")).map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push("--window-size=1280,900".to_string());
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "args": args, "binary": crawler::browser::DEFAULT_CHROMIUM }));
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps);
    builder.connect(&driver.url).await.expect("a Chromium session")
}

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A screenshot of the page at desktop and phone widths; checks that the phone width does not
/// scroll sideways.
async fn screenshot(c: &Client, name: &str) {
    c.set_window_size(1280, 900).await.unwrap();
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
    c.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wide = c.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await.unwrap();
    assert!(wide.as_i64().unwrap_or(0) <= 1, "{name}: the page scrolls sideways at a phone's width ({wide} px)");
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    std::fs::write(shots().join(format!("{name}-phone.png")), c.screenshot().await.unwrap()).unwrap();
    c.set_window_size(1280, 900).await.unwrap();
}

/// Waits until `script` (a function body returning a value) returns something truthy.
async fn until(c: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = c.execute(script, vec![]).await.unwrap();
        let ok = match &v {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        };
        if ok {
            return v;
        }
        if Instant::now() > deadline {
            let body = c.execute("return document.body.innerText", vec![]).await.unwrap();
            panic!("waited 20 s for {what}; the page says:\n{}", body.as_str().unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}")).text().await.unwrap()
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

fn make_key(server: &Server, name: &str, scopes: &[&str]) -> String {
    let (status, a) = server.call("POST", "/api/keys", MASTER, Some(&json!({"name": name, "scopes": scopes})));
    assert_eq!(status, 201, "{a}");
    a["key"].as_str().expect("the new key's secret").to_string()
}

#[test]
fn each_page_works_in_chromium_as_a_person_uses_it() {
    let data = tempfile::tempdir().unwrap();
    import_fixtures(data.path());
    run_ok(&["index", "--data", data.path().to_str().unwrap()]);
    let server = Server::start_env(data.path(), &[], &[("PASSERELLE_MASTER_KEY", MASTER)]);
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = server.base.clone();
    let offers_key = make_key(&server, "recruteur", &["offers.write"]);
    let questions_key = make_key(&server, "contributeur", &["questions.write"]);
    let export_key = make_key(&server, "equipe-marketing", &["export"]);
    let transmissions_key = make_key(&server, "responsable", &["transmissions"]);
    // Open offers whatever the day the test runs (the fixtures' offers expire as time passes).
    let until_date = (time::OffsetDateTime::now_utc().date() + time::Duration::days(60)).to_string();
    let posted = (time::OffsetDateTime::now_utc().date() - time::Duration::days(3)).to_string();
    for (title, company, city) in
        [("Stage développeur web JavaScript (React)", "Webatelier Namur", "Namur"), ("Stage développement web front-end JavaScript", "Pixelmeuse", "Liège")]
    {
        let offer = json!({"title": title, "company_name": company, "contract_type": "internship", "city": city, "region": "Wallonie", "country": "BE",
            "description": "Stage en développement web : JavaScript, React, HTML et CSS, au sein d'une équipe produit.", "skills": ["JavaScript", "React", "HTML", "CSS"],
            "date_posted": posted, "valid_through": until_date, "contact": {"name": "Claire Dumont", "email": "stages@example.org", "phone": "+32 81 00 00 00"}});
        let (status, a) = server.call("POST", "/api/offers", &offers_key, Some(&offer));
        assert_eq!(status, 201, "{a}");
    }
    // Untrusted text: records whose every field shown holds markup. It must show as text.
    let xss = "<img src=x onerror=\"document.title='xss'\"><script>document.title='xss'</script>";
    let offer = json!({"title": format!("Stage zorglub {xss}"), "company_name": format!("Zorglub {xss} SA"), "contract_type": "internship", "city": format!("Namur{xss}"),
        "description": format!("Stage zorglub en développement web {xss}"), "date_posted": posted, "valid_through": until_date,
        "contact": {"name": format!("Mme {xss}"), "email": "zorglub@example.org"}});
    assert_eq!(server.call("POST", "/api/offers", &offers_key, Some(&offer)).0, 201);
    let programme = json!({"title": format!("Bachelier zorglub {xss}"), "school_name": format!("École {xss}"), "description": format!("Formation zorglub {xss}"),
        "contact": {"name": format!("M. {xss}"), "role": xss, "email": "resp-zorglub@example.org"}});
    assert_eq!(server.call("POST", "/api/programmes", &offers_key, Some(&programme)).0, 201);
    let question = json!({"text": format!("Que fait zorglub {xss} ?"), "code": format!("zorglub(); // {xss}"), "options": [xss, "rien"], "tag": "JavaScript"});
    assert_eq!(server.call("POST", "/api/questions", &questions_key, Some(&question)).0, 201);
    rt.block_on(async {
        let c = browser(&driver, profile.path()).await;

        // An empty box shows the newest open offers (and how many of each kind there are).
        let (status, recent) = tokio::task::block_in_place(|| server.get("/api/search?kind=offer&sort=recent&limit=20"));
        assert_eq!(status, 200, "{recent}");
        let dates: Vec<&str> = recent["hits"].as_array().unwrap().iter().filter_map(|h| h["record"]["date_posted"].as_str()).collect();
        assert!(dates.len() >= 10 && dates.windows(2).all(|w| w[0] >= w[1]), "not newest first: {dates:?}");
        assert_eq!(tokio::task::block_in_place(|| server.get("/api/search?q=java&sort=recent")).0, 400);
        c.goto(&format!("{base}/")).await.unwrap();
        until(&c, "the recent open offers", "return document.querySelectorAll('#recent .hit').length >= 3").await;
        let badges = c.execute("return [...document.querySelectorAll('#recent .hit .badge.open')].length === document.querySelectorAll('#recent .hit').length", vec![]).await.unwrap();
        assert_eq!(badges, json!(true), "an expired offer among the recent open ones");
        assert!(text_of(&c, "#empty-counts").await.contains("formations"));
        screenshot(&c, "recherche-vide").await;

        // Recherche: a shared link opens with its results; typing updates them; "pourquoi ?";
        // a kind tab goes into the URL and Back undoes it; the arrow keys walk the results.
        c.goto(&format!("{base}/?q=informatique")).await.unwrap();
        until(&c, "results for informatique", "return document.querySelectorAll('#hits .hit').length").await;
        assert_eq!(c.find(Locator::Css("#q")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("informatique"));
        let nav: Vec<String> = until(&c, "the nav", "return [...document.querySelectorAll('header nav a')].map(a => a.textContent)").await
            .as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(nav, ["Recherche", "Recruteur", "Étudiant", "Contributeur", "Tableau de bord", "Marketing", "Transmissions"]);
        let tabs = text_of(&c, "#tabs").await;
        assert!(tabs.contains("Formations (") && tabs.contains("Écoles ("), "{tabs}");
        type_into(&c, "#q", "compta").await;
        until(&c, "results for compta", "return document.querySelector('#status').textContent.includes('résultat') && location.search.includes('q=compta') && [...document.querySelectorAll('#hits mark')].some(m => m.textContent.toLowerCase().startsWith('compta'))").await;
        c.find(Locator::Css("#hits .hit details.why summary")).await.unwrap().click().await.unwrap();
        let why = text_of(&c, "#hits .hit details.why[open]").await;
        assert!(why.contains("Trouvé par les mots") && why.contains("Mots trouvés"), "{why}");
        c.find(Locator::Css("#tabs [data-kind=programme]")).await.unwrap().click().await.unwrap();
        until(&c, "the programme tab", "return location.search.includes('kind=programme') && [...document.querySelectorAll('#hits .badge')].every(b => b.textContent === 'Formation')").await;
        c.back().await.unwrap();
        until(&c, "Back to every kind", "return !location.search.includes('kind=') && document.querySelector('#tabs [data-kind=\"\"]').getAttribute('aria-selected') === 'true'").await;
        // Contract values in French, and a second value of a facet can be added.
        type_into(&c, "#q", "stage").await;
        until(&c, "results for stage", "return location.search.includes('q=stage') && [...document.querySelectorAll('#hits mark')].some(m => m.textContent.toLowerCase().startsWith('stag'))").await;
        let facets = until(&c, "the contract facet", "const f = [...document.querySelectorAll('#facets fieldset')].find(f => f.querySelector('legend').textContent === 'Contrat'); return f ? f.innerText : ''").await;
        assert!(facets.as_str().unwrap().contains("Stage") && !facets.as_str().unwrap().contains("internship"), "{facets}");
        c.find(Locator::Css("#q")).await.unwrap().send_keys("\u{E015}").await.unwrap(); // arrow down
        let focused = c.execute("return document.activeElement.classList.contains('title')", vec![]).await.unwrap();
        assert_eq!(focused, json!(true), "arrow down does not reach the first result");
        // Near a town: the town is suggested as it is typed, goes into the URL, and each hit says
        // how far it is; an unknown town is said in words.
        type_into(&c, "#place-town", "Nam").await;
        until(&c, "the town suggested", "return [...document.querySelectorAll('#place-towns option')].some(o => o.value === 'Namur')").await;
        type_into(&c, "#place-town", "Namur\u{E007}").await;
        until(&c, "hits near Namur", "return location.search.includes('near=Namur') && document.querySelector('#status').textContent.includes('autour de Namur') && document.querySelectorAll('#hits .hit').length && [...document.querySelectorAll('#hits .hit .meta')].every(m => /à (moins d'1|[0-9,]+) km/.test(m.textContent))").await;
        c.find(Locator::Css("#by-distance")).await.unwrap().click().await.unwrap();
        // The distances of the hits shown, once the sorted page has replaced the previous one
        // (the click starts a new request; the old hits stay until it answers).
        let distances = "return [...document.querySelectorAll('#hits .hit .meta')].map(m => { const d = m.textContent.match(/à (moins d'1|[0-9,]+) km/)[1]; return d.startsWith('moins') ? 0 : parseFloat(d.replace(',', '.')); })";
        until(&c, "the nearest first", &format!("const km = (() => {{ {} }})(); return location.search.includes('sort=distance') && document.getElementById('hits').getAttribute('aria-busy') !== 'true' && km.length && km.every((k, i) => i === 0 || km[i - 1] <= k)", distances)).await;
        let km = c.execute(distances, vec![]).await.unwrap();
        let km: Vec<f64> = km.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(km.windows(2).all(|w| w[0] <= w[1]) && km.iter().all(|k| *k <= 30.0), "{km:?}");
        screenshot(&c, "recherche-pres-de").await;
        type_into(&c, "#place-town", "Namurr\u{E007}").await;
        until(&c, "the unknown town said", "return document.querySelector('#status').textContent.includes('Ville inconnue')").await;
        type_into(&c, "#place-town", "\u{E007}").await;
        until(&c, "the town cleared", "return !location.search.includes('near=') && document.querySelectorAll('#hits .hit').length").await;
        screenshot(&c, "recherche").await;

        // Recruteur: paste an offer -> programmes with a manager's contact; forwarding asks for
        // a key, then forwards to the ticked programme.
        c.goto(&format!("{base}/recruteur")).await.unwrap();
        type_into(&c, "#offer-title", "Stage développeur web").await;
        type_into(&c, "#offer-text", "Nous cherchons un stagiaire en développement web : HTML, CSS, JavaScript, bases de données SQL. Formation en informatique de gestion.").await;
        c.find(Locator::Css("#offer-form button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "programmes for the offer", "return document.querySelectorAll('#programmes .card').length").await;
        until(&c, "a manager's mailto or tel link", "return document.querySelectorAll('#programmes .contact a[href^=\"mailto:\"], #programmes .contact a[href^=\"tel:\"]').length").await;
        assert!(c.current_url().await.unwrap().as_str().contains("titre=Stage"), "the pasted offer is not in the URL");
        c.find(Locator::Css("#programmes input[name=forward]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#forward-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let said = text_of(&c, "#forward-status").await;
        assert!(said.contains("clé d'accès"), "{said}");
        type_into(&c, "#key", "pk_wrong").await;
        c.find(Locator::Css("#forward-form button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "the wrong key refused in words", "return document.querySelector('#forward-status').textContent.includes('pas reconnue')").await;
        type_into(&c, "#key", &offers_key).await;
        c.find(Locator::Css("#forward-form button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "the offer forwarded", "return document.querySelector('#forward-status').textContent.includes('Transmise à 1')").await;
        let (_, listed) = tokio::task::block_in_place(|| server.call("GET", "/api/transmissions", MASTER, None));
        assert_eq!(listed["total"], 1, "{listed}");
        screenshot(&c, "recruteur").await;

        // Étudiant: a wish -> open offers and companies; the programmes tab.
        c.goto(&format!("{base}/etudiant")).await.unwrap();
        type_into(&c, "#wish", "stage développement web JavaScript").await;
        until(&c, "open offers", "return document.querySelectorAll('#offers .card .badge.open').length").await;
        until(&c, "a recruiter's contact", "return document.querySelectorAll('#contacts a[href^=\"mailto:\"]').length").await;
        until(&c, "companies", "return document.querySelectorAll('#companies .card').length").await;
        assert!(text_of(&c, "#companies").await.contains("offre(s) semblable(s)"));
        // Near Liège (20 km): only the offers there, each with its distance; the town in the URL.
        c.find(Locator::Css("#place-radius option[value='20']")).await.unwrap().click().await.unwrap();
        type_into(&c, "#place-town", "Liège\u{E007}").await;
        until(&c, "offers near Liège", "return location.search.includes('pres=Li') && document.querySelectorAll('#offers .card').length && [...document.querySelectorAll('#offers .card .meta')].every(m => m.textContent.includes('Liège') && / km/.test(m.textContent))").await;
        c.find(Locator::Css("#tab-programmes")).await.unwrap().click().await.unwrap();
        until(&c, "programmes", "return document.querySelectorAll('#programmes .card').length && location.search.includes('onglet=formations')").await;
        screenshot(&c, "etudiant").await;

        // Contributeur: a fixture question written again is a duplicate, with the tag guessed;
        // saving it asks first, and needs a key.
        c.goto(&format!("{base}/contributeur")).await.unwrap();
        type_into(&c, "#text", "que vaut l'expression 0.1 + 0.2 === 0.3 en javascript").await;
        until(&c, "the duplicate verdict", "return [...document.querySelectorAll('#similar .badge')].some(b => b.textContent === 'Doublon')").await;
        until(&c, "the tag guessed", "return document.querySelector('#guess').textContent.includes('JavaScript')").await;
        // The key typed on the recruiter page is offered here too (same tab): empty it first.
        assert_eq!(c.find(Locator::Css("#key")).await.unwrap().prop("value").await.unwrap().as_deref(), Some(offers_key.as_str()));
        c.find(Locator::Css("#key")).await.unwrap().clear().await.unwrap();
        c.find(Locator::Css("#save")).await.unwrap().click().await.unwrap();
        assert!(text_of(&c, "#save-status").await.contains("clé d'accès"));
        type_into(&c, "#key", &questions_key).await;
        c.find(Locator::Css("#save")).await.unwrap().click().await.unwrap();
        until(&c, "the confirmation", "return !document.querySelector('#confirm').hidden").await;
        c.find(Locator::Css("#confirm-yes")).await.unwrap().click().await.unwrap();
        until(&c, "the question saved", "return document.querySelector('#save-status').textContent.includes('enregistrée')").await;
        screenshot(&c, "contributeur").await;

        // Tableau de bord: the period in the URL; non-empty charts, each with its table; the
        // gaps table. The fixtures' offers are dated 2025 and 2026: the period is all of 2026.
        c.goto(&format!("{base}/tableau-de-bord?du=2026-01-01&au=2026-12-31")).await.unwrap();
        until(&c, "the charts", "return document.querySelectorAll('#skills svg rect.bar-current').length >= 3 && document.querySelectorAll('#companies svg rect').length && document.querySelectorAll('#levels svg rect').length && document.querySelectorAll('#firsts svg rect.bar-current').length && document.querySelector('#firsts-note').textContent.includes('offre(s) de la période')").await;
        let tables = c.execute("return [...document.querySelectorAll('.chart-block')].filter(b => b.querySelector('svg')).map(b => b.querySelectorAll('details table tbody tr').length)", vec![]).await.unwrap();
        assert!(tables.as_array().unwrap().len() >= 4 && tables.as_array().unwrap().iter().all(|n| n.as_u64().unwrap() > 0), "a chart without its table: {tables}");
        let gaps = until(&c, "the gaps table", "const rows = [...document.querySelectorAll('#gaps-table tbody tr')]; return rows.length && rows[0].cells.length === 7 ? rows.map(r => r.innerText).join('\\n') : ''").await;
        assert!(gaps.as_str().unwrap().contains(" — "), "{gaps}");
        assert_eq!(c.find(Locator::Css("#from")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("2026-01-01"));
        screenshot(&c, "tableau-de-bord").await;

        // Marketing: refused without a key (in words), the count before downloading, which
        // follows the filters; the CSV download is logged; the suppression list.
        c.goto(&format!("{base}/marketing")).await.unwrap();
        c.find(Locator::Css("#key")).await.unwrap().clear().await.unwrap();
        c.find(Locator::Css("#export-form button[type=submit]")).await.unwrap().click().await.unwrap();
        assert!(text_of(&c, "#count").await.contains("clé d'accès"));
        type_into(&c, "#key", &questions_key).await;
        until(&c, "a key without the export scope refused", "return document.querySelector('#count').textContent.includes('ne permet pas')").await;
        type_into(&c, "#key", &export_key).await;
        let all = until(&c, "the count", "const t = document.querySelector('#count').textContent; return t.includes('école(s)') ? t : ''").await;
        let schools = |text: &str| text.split_whitespace().next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
        let all = schools(all.as_str().unwrap());
        assert!(all > 10, "{all}");
        c.execute("const s = document.querySelector('#country'); s.value = 'FR'; s.dispatchEvent(new Event('change'))", vec![]).await.unwrap();
        let fr = until(&c, "the count for France", &format!("const t = document.querySelector('#count').textContent; return t.includes('école(s)') && !t.startsWith('{all} ') ? t : ''")).await;
        let fr = schools(fr.as_str().unwrap());
        assert!(fr > 0 && fr < all, "{fr} of {all}");
        assert!(c.current_url().await.unwrap().as_str().contains("pays=FR"));
        c.find(Locator::Css("#export-form button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "the download", &format!("return document.querySelector('#count').textContent.includes('Téléchargé : {fr} école(s)')")).await;
        until(&c, "the export in the log", "return document.querySelector('#log tbody').textContent.includes('equipe-marketing')").await;
        type_into(&c, "#supp-value", "@example-ecole.be").await;
        type_into(&c, "#supp-reason", "demande de l'école").await;
        c.find(Locator::Css("#supp-add")).await.unwrap().click().await.unwrap();
        until(&c, "the suppression listed", "return document.querySelector('#suppressions').textContent.includes('@example-ecole.be')").await;
        screenshot(&c, "marketing").await;

        // Transmissions: what the manager received, with the offer's title.
        c.goto(&format!("{base}/transmissions")).await.unwrap();
        type_into(&c, "#key", &transmissions_key).await;
        c.find(Locator::Css("#key-form button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "the forwarded offer", "return document.querySelector('#transmissions').textContent.includes('Stage développeur web')").await;
        screenshot(&c, "transmissions").await;

        // Every page that shows those records shows their markup as text and runs nothing.
        for (path, ready) in [
            ("/?q=zorglub", "return document.querySelectorAll('#hits .hit').length >= 3"),
            ("/etudiant?texte=stage+zorglub", "return document.querySelector('#offers').textContent.includes('zorglub')"),
            ("/recruteur?titre=zorglub&texte=Formation+zorglub", "return document.querySelector('#programmes').textContent.includes('zorglub')"),
            ("/contributeur?texte=Que+fait+zorglub", "return document.querySelector('#similar').textContent.includes('zorglub')"),
        ] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            until(&c, path, ready).await;
            let injected = c.execute("return document.querySelectorAll('main img, main script, main iframe, main [onerror]').length", vec![]).await.unwrap();
            assert_eq!(injected, json!(0), "{path}: record text became elements");
            let shown = c.execute("return document.querySelector('main').textContent.includes(\"<img src=x onerror=\")", vec![]).await.unwrap();
            assert_eq!(shown, json!(true), "{path}: the markup is not shown as text");
            let title = c.execute("return document.title", vec![]).await.unwrap();
            assert!(!title.as_str().unwrap_or_default().contains("xss"), "{path}: a script ran");
        }
        screenshot(&c, "xss").await;
        c.close().await.unwrap();
    });
}
