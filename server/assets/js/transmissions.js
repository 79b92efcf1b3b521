// Transmissions: the offers recruiters forwarded to a programme manager's programmes (a key
// bound to programmes sees only theirs), with the offer, the programme, when, and where the
// mail stands.
import { t, el, api, keyField, say, formatDate } from "/assets/common.js";

const form = document.getElementById("key-form");
const statusEl = document.getElementById("status");
const list = document.getElementById("transmissions");
const key = keyField(document.getElementById("key"));

/** A record's title by id, fetched once. */
const titles = new Map();
async function title(kind, id) {
  if (!titles.has(kind + id)) {
    titles.set(
      kind + id,
      api("GET", "/api/" + kind + "s/" + encodeURIComponent(id)).then(
        (r) => [r.title, r.company_name || r.school_name].filter(Boolean).join(" — "),
        () => null,
      ),
    );
  }
  return titles.get(kind + id);
}

async function load() {
  if (!key()) return say(statusEl, t("key.missing"), "error");
  say(statusEl, t("common.loading"));
  try {
    const a = await api("GET", "/api/transmissions", undefined, { key: key() });
    say(statusEl, a.total ? t("transmissions.count", { n: a.total }) : t("transmissions.none"));
    const cards = await Promise.all(a.transmissions.map(card));
    list.replaceChildren(...cards);
  } catch (err) {
    say(statusEl, err.message, "error");
  }
}

async function card(x) {
  const [offer, programme] = await Promise.all([title("offer", x.offer_id), title("programme", x.programme_id)]);
  const status = t("transmissions.status." + x.status);
  const badge = x.status === "sent" ? "open" : x.status === "failed" ? "expired" : "";
  const meta = [
    t("transmissions.received", { date: formatDate(x.created_at) }),
    t("transmissions.from", { sender: x.sender }),
    x.recipient ? t("transmissions.recipient", { recipient: [x.recipient_name, x.recipient].filter(Boolean).join(" ") }) : "",
  ].filter(Boolean).join(" · ");
  return el(
    "li",
    { class: "card" },
    el("div", null, el("span", { class: "badge " + badge, text: status + (x.status === "sent" && x.sent_at ? " " + formatDate(x.sent_at) : "") }), el("span", { class: "title", text: offer || t("transmissions.offer_gone", { id: x.offer_id }) })),
    el("div", { class: "meta", text: t("transmissions.to", { programme: programme || x.programme_id }) }),
    el("div", { class: "meta", text: meta }),
    x.message ? el("div", { class: "snippet", text: t("transmissions.message", { message: x.message }) }) : null,
    x.status === "failed" && x.last_error ? el("div", { class: "meta error", text: x.last_error }) : null,
  );
}

form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
if (key()) load();
