// Marketing: the contacts export with its filters (region, school type, country), the count
// before downloading, the CSV download with a key, the suppression list and the export log.
// Filters in the URL; the key in this tab only.
import { t, el, api, latest, debounce, readState, writeState, keyField, say, formatDate, fillSelect, facetValues, problem } from "/assets/common.js";

const form = document.getElementById("export-form");
const regionSel = document.getElementById("region");
const kindSel = document.getElementById("kind");
const countrySel = document.getElementById("country");
const bomIn = document.getElementById("bom");
const countEl = document.getElementById("count");
const suppForm = document.getElementById("suppress-form");
const suppValue = document.getElementById("supp-value");
const suppReason = document.getElementById("supp-reason");
const suppStatus = document.getElementById("supp-status");
const suppList = document.getElementById("suppressions");
const logBody = document.querySelector("#log tbody");
const keyInput = document.getElementById("key");
const key = keyField(keyInput);
const counting = latest();

function filters() {
  const p = new URLSearchParams();
  if (regionSel.value) p.set("region", regionSel.value);
  if (kindSel.value) p.set("kind", kindSel.value);
  if (countrySel.value) p.set("country", countrySel.value);
  return p;
}

function toUrl() {
  writeState({ region: regionSel.value, type: kindSel.value, pays: countrySel.value }, true);
}

async function count() {
  if (!key()) return say(countEl, t("key.missing"), "error");
  const r = await counting((signal) => api("GET", "/api/export/contacts/count?" + filters(), undefined, { key: key(), signal }));
  if (!r) return;
  if (r.error) return say(countEl, r.error.message, "error");
  say(countEl, t("marketing.count", r.value));
}

async function download(e) {
  e.preventDefault();
  if (!key()) return say(countEl, t("key.missing"), "error");
  const p = filters();
  if (bomIn.checked) p.set("bom", "true");
  try {
    // A link cannot carry the key: the file is fetched, then saved from memory.
    const res = await fetch("/api/export/contacts.csv?" + p, { headers: { Authorization: "Bearer " + key() } });
    if (!res.ok) throw await problem(res);
    const blob = await res.blob();
    const text = await blob.text();
    const rows = Math.max(0, text.split("\n").filter((l) => l.trim()).length - 1);
    const a = el("a", { download: "contacts.csv" });
    a.href = URL.createObjectURL(blob);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    say(countEl, t("marketing.downloaded", { rows }), "ok");
    loadLog();
  } catch (err) {
    say(countEl, err.message || t("error.network"), "error");
  }
}

async function loadSuppressions() {
  if (!key()) return;
  try {
    const a = await api("GET", "/api/contacts/suppressions", undefined, { key: key() });
    suppList.replaceChildren(
      ...(a.suppressions.length
        ? a.suppressions.map((s) =>
            el(
              "li",
              { class: "card" },
              el("span", { class: "title", text: s.value }),
              " ",
              el("span", { class: "meta", text: [s.reason, t("marketing.added_at", { date: formatDate(s.added_at) })].filter(Boolean).join(" · ") }),
              " ",
              el("button", { type: "button", "aria-label": t("marketing.unsuppress") + " " + s.value, onclick: () => unsuppress(s.value) }, t("marketing.unsuppress")),
            ),
          )
        : [el("li", { class: "card", text: t("marketing.suppressions_none") })]),
    );
  } catch (err) {
    say(suppStatus, err.message, "error");
  }
}

async function suppress(e) {
  e.preventDefault();
  if (!key()) return say(suppStatus, t("key.missing"), "error");
  const body = { value: suppValue.value.trim() };
  if (suppReason.value.trim()) body.reason = suppReason.value.trim();
  try {
    const a = await api("POST", "/api/contacts/suppressions", body, { key: key() });
    say(suppStatus, t(a.added ? "marketing.suppressed" : "marketing.already", { value: a.value }), "ok");
    suppValue.value = "";
    suppReason.value = "";
    loadSuppressions();
    count();
  } catch (err) {
    say(suppStatus, err.message, "error");
  }
}

async function unsuppress(value) {
  try {
    await api("DELETE", "/api/contacts/suppressions/" + encodeURIComponent(value), undefined, { key: key() });
    say(suppStatus, t("marketing.unsuppressed", { value }), "ok");
    loadSuppressions();
    count();
  } catch (err) {
    say(suppStatus, err.message, "error");
  }
}

async function loadLog() {
  if (!key()) return;
  try {
    const a = await api("GET", "/api/exports?limit=20", undefined, { key: key() });
    const filterText = (f) => {
      const parts = Object.entries(f || {}).filter(([k, v]) => v && k !== "bom").map(([k, v]) => k + " = " + v);
      return parts.length ? parts.join(", ") : t("marketing.no_filter");
    };
    logBody.replaceChildren(
      ...(a.exports.length
        ? a.exports.map((x) => el("tr", null, el("td", { text: formatDate(x.at) + " " + (x.at || "").slice(11, 16) }), el("td", { text: x.who }), el("td", { text: x.format }), el("td", { text: filterText(x.filters) }), el("td", { class: "n", text: x.rows })))
        : [el("tr", null, el("td", { colspan: "5", text: t("marketing.log_none") }))]),
    );
  } catch (err) {
    say(suppStatus, err.message, "error");
  }
}

function refresh() {
  count();
  loadSuppressions();
  loadLog();
}

form.addEventListener("submit", download);
suppForm.addEventListener("submit", suppress);
for (const sel of [regionSel, kindSel, countrySel]) sel.addEventListener("change", () => { toUrl(); count(); });
keyInput.addEventListener("input", debounce(refresh, 300));

async function load() {
  const s = readState();
  try {
    const f = await facetValues("school");
    fillSelect(regionSel, "region", f.region, s.region || "");
    fillSelect(kindSel, "school_type", f.school_type, s.type || "");
    fillSelect(countrySel, "country", f.country, s.pays || "");
  } catch (err) {
    say(countEl, err.message, "error");
  }
  refresh();
}

window.addEventListener("popstate", load);
load();
