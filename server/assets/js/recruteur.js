// Recruteur: an offer (pasted, or picked among the stored ones) -> the programmes that train
// for it, with their school, level, the manager's contact and why; then save the offer and
// forward it to the chosen managers (with an access key). State in the URL: mode, picked offer,
// pasted title and text, filters, the town and radius.
import { t, el, api, latest, debounce, readState, writeState, keyField, say, programmeCard, fillSelect, facetValues, placeField } from "/assets/common.js";

const form = document.getElementById("offer-form");
const titleIn = document.getElementById("offer-title");
const textIn = document.getElementById("offer-text");
const contractIn = document.getElementById("offer-contract");
const regionIn = document.getElementById("offer-region");
const cityIn = document.getElementById("offer-city");
const pasteBox = document.getElementById("paste");
const pickBox = document.getElementById("pick");
const pickQ = document.getElementById("pick-q");
const pickList = document.getElementById("pick-list");
const pickedEl = document.getElementById("picked");
const regionSel = document.getElementById("filter-region");
const levelSel = document.getElementById("filter-level");
const statusEl = document.getElementById("status");
const results = document.getElementById("results");
const signalsEl = document.getElementById("signals");
const list = document.getElementById("programmes");
const forwardForm = document.getElementById("forward-form");
const messageIn = document.getElementById("message");
const forwardStatus = document.getElementById("forward-status");
const key = keyField(document.getElementById("key"));

/** The stored offer picked (its record), or null. */
let picked = null;
/** The id the pasted offer got when it was saved (so a second forward does not save it again). */
let savedId = null;
const matching = latest();
const picking = latest();

function mode() {
  return form.querySelector("input[name=mode]:checked").value;
}

function setMode(m) {
  form.querySelector(`input[name=mode][value=${m === "pick" ? "pick" : "paste"}]`).checked = true;
  pasteBox.hidden = m === "pick";
  pickBox.hidden = m !== "pick";
}

const place = placeField(document.getElementById("place"), () => { toUrl(true); if (offerText().trim()) match(); });

function toUrl(push) {
  const m = mode();
  const near = place.get();
  const where = { pres: near ? near.near : "", rayon: near && near.radius_km !== 30 ? near.radius_km : "" };
  writeState(
    m === "pick"
      ? { mode: "pick", offre: picked ? picked.id : "", region: regionSel.value, niveau: levelSel.value, ...where }
      : { titre: titleIn.value, texte: textIn.value.slice(0, 4000), contrat: contractIn.value === "internship" ? "" : contractIn.value, region: regionSel.value, niveau: levelSel.value, ...where },
    push,
  );
}

function offerText() {
  if (mode() === "pick") return picked ? [picked.title, picked.description, (picked.skills || []).join(", ")].filter(Boolean).join("\n") : "";
  return [titleIn.value, textIn.value].filter((s) => s.trim()).join("\n");
}

async function match() {
  const text = offerText();
  if (!text.trim()) {
    say(statusEl, t("recruiter.need_text"), "error");
    return;
  }
  const filters = {};
  if (regionSel.value) filters.region = [regionSel.value];
  if (levelSel.value) filters.level = [levelSel.value];
  const near = place.get();
  if (near) Object.assign(filters, near);
  say(statusEl, t("common.loading"));
  const r = await matching((signal) => api("POST", "/api/match/offer-to-programmes", { text, limit: 10, filters }, { signal }));
  if (!r) return;
  if (r.error) return say(statusEl, r.error.message, "error");
  draw(r.value);
}

function draw(answer) {
  const n = answer.programmes.length;
  say(statusEl, n ? t("recruiter.count", { n }) : t("recruiter.none"));
  results.hidden = false;
  signalsEl.textContent = answer.signals && answer.signals.title ? t("recruiter.signals", { title: answer.signals.title }) : "";
  list.replaceChildren(...answer.programmes.map(card));
  forwardForm.hidden = n === 0;
}

function card(p) {
  return programmeCard(p, el("label", { class: "check" }, el("input", { type: "checkbox", name: "forward", value: p.id }), el("span", { text: t("recruiter.choose") })));
}

async function forward(e) {
  e.preventDefault();
  const chosen = [...list.querySelectorAll("input[name=forward]:checked")].map((c) => c.value);
  if (!chosen.length) return say(forwardStatus, t("recruiter.forward_none"), "error");
  if (!key()) return say(forwardStatus, t("key.missing"), "error");
  try {
    let id = mode() === "pick" && picked ? picked.id : savedId;
    const notes = [];
    if (!id) {
      if (!titleIn.value.trim()) return say(forwardStatus, t("recruiter.forward_need_title"), "error");
      const offer = { title: titleIn.value.trim(), description: textIn.value, contract_type: contractIn.value };
      if (regionIn.value.trim()) offer.region = regionIn.value.trim();
      if (cityIn.value.trim()) offer.city = cityIn.value.trim();
      const written = await api("POST", "/api/offers", offer, { key: key() });
      id = savedId = written.written[0].id;
      notes.push(t("recruiter.saved"));
    }
    const body = { programmes: chosen };
    if (messageIn.value.trim()) body.message = messageIn.value.trim();
    const a = await api("POST", "/api/offers/" + encodeURIComponent(id) + "/forward", body, { key: key() });
    const again = a.transmissions.filter((x) => x.already_forwarded).length;
    notes.push(t("recruiter.forwarded", { n: a.transmissions.length - again }));
    if (again) notes.push(t("recruiter.already", { n: again }));
    notes.push(a.mailed ? t("recruiter.mailed") : t("recruiter.stored"));
    say(forwardStatus, notes.join(" "), "ok");
  } catch (err) {
    say(forwardStatus, err.message, "error");
  }
}

const findOffers = debounce(async () => {
  const q = pickQ.value;
  const r = await picking((signal) => api("GET", "/api/search?kind=offer&limit=8&q=" + encodeURIComponent(q), undefined, { signal }));
  if (!r) return;
  if (r.error) return say(statusEl, r.error.message, "error");
  pickList.replaceChildren(
    ...r.value.hits.map((h) =>
      el(
        "li",
        null,
        el("button", { type: "button", onclick: () => pick(h.id) }, h.title, h.record && h.record.company_name ? " — " + h.record.company_name : "", h.record && h.record.city ? " (" + h.record.city + ")" : ""),
      ),
    ),
  );
}, 120);

async function pick(id, quiet) {
  try {
    picked = await api("GET", "/api/offers/" + encodeURIComponent(id));
    pickedEl.textContent = t("recruiter.picked", { title: [picked.title, picked.company_name].filter(Boolean).join(" — ") });
    pickList.replaceChildren();
    if (!quiet) toUrl(true);
    match();
  } catch (err) {
    say(statusEl, err.message, "error");
  }
}

form.addEventListener("change", (e) => {
  if (e.target.name === "mode") {
    setMode(e.target.value);
    toUrl(true);
  }
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  savedId = null;
  toUrl(true);
  match();
});
for (const sel of [regionSel, levelSel]) sel.addEventListener("change", () => { toUrl(true); if (offerText().trim()) match(); });
for (const inp of [titleIn, textIn]) inp.addEventListener("input", () => { savedId = null; toUrl(false); });
pickQ.addEventListener("input", findOffers);
forwardForm.addEventListener("submit", forward);

async function load() {
  const s = readState();
  setMode(s.mode === "pick" ? "pick" : "paste");
  titleIn.value = s.titre || "";
  textIn.value = s.texte || "";
  if (s.contrat) contractIn.value = s.contrat;
  place.set(s.pres || "", s.rayon || 30);
  try {
    const facets = await facetValues("programme");
    fillSelect(regionSel, "region", facets.region, s.region || "");
    fillSelect(levelSel, "level", facets.level, s.niveau || "");
  } catch (err) {
    say(statusEl, err.message, "error");
  }
  if (s.mode === "pick" && s.offre) await pick(s.offre, true);
  else if ((s.titre || s.texte || "").trim()) match();
  else results.hidden = true;
}

window.addEventListener("popstate", load);
load();
