// Étudiant: the internship wanted (+ region, contract, level) -> open offers, the companies
// that posted similar offers (with when they last did), the recruiters' contacts; a second tab
// for programmes. State in the URL: the wish, the filters, the tab.
import { t, el, api, latest, debounce, readState, writeState, valueLabel, formatDate, say, contactLinks, whyDetails, programmeCard, fillSelect, facetValues, placeField, distanceText } from "/assets/common.js";

const form = document.getElementById("wish-form");
const wishIn = document.getElementById("wish");
const regionSel = document.getElementById("region");
const contractSel = document.getElementById("contract");
const levelSel = document.getElementById("level");
const statusEl = document.getElementById("status");
const tabOffers = document.getElementById("tab-offers");
const tabProgrammes = document.getElementById("tab-programmes");
const panelOffers = document.getElementById("panel-offers");
const panelProgrammes = document.getElementById("panel-programmes");
const offersEl = document.getElementById("offers");
const expiredEl = document.getElementById("expired");
const companiesEl = document.getElementById("companies");
const contactsEl = document.getElementById("contacts");
const programmesEl = document.getElementById("programmes");

let tab = "offres";
const run = latest();
const place = placeField(document.getElementById("place"), () => { toUrl(true); find(); });

function toUrl(push) {
  const near = place.get();
  writeState({ texte: wishIn.value, region: regionSel.value, contrat: contractSel.value, niveau: levelSel.value, pres: near ? near.near : "", rayon: near && near.radius_km !== 30 ? near.radius_km : "", onglet: tab === "formations" ? "formations" : "" }, push);
}

/** The town and radius, as a matcher's filters. */
function nearFilters(filters) {
  const near = place.get();
  if (near) Object.assign(filters, near);
  return filters;
}

function showTab(name) {
  tab = name;
  const offers = name !== "formations";
  tabOffers.setAttribute("aria-selected", String(offers));
  tabProgrammes.setAttribute("aria-selected", String(!offers));
  tabOffers.tabIndex = offers ? 0 : -1;
  tabProgrammes.tabIndex = offers ? -1 : 0;
  panelOffers.hidden = !offers;
  panelProgrammes.hidden = offers;
}

async function find() {
  const text = wishIn.value.trim();
  if (!text) {
    say(statusEl, t("student.need_text"));
    for (const node of [offersEl, companiesEl, contactsEl, programmesEl]) node.replaceChildren();
    expiredEl.textContent = "";
    return;
  }
  say(statusEl, t("common.loading"));
  const r = await run(async (signal) => {
    if (tab === "formations") {
      const filters = {};
      if (regionSel.value) filters.region = [regionSel.value];
      if (levelSel.value) filters.level = [levelSel.value];
      return { programmes: await api("POST", "/api/match/student-to-programmes", { text, limit: 10, filters: nearFilters(filters) }, { signal }) };
    }
    const filters = {};
    if (regionSel.value) filters.region = [regionSel.value];
    if (contractSel.value) filters.contract_type = [contractSel.value];
    if (levelSel.value) filters.level = [levelSel.value];
    return { offers: await api("POST", "/api/match/student-to-offers", { text, limit: 10, filters: nearFilters(filters) }, { signal }) };
  });
  if (!r) return;
  if (r.error) return say(statusEl, r.error.message, "error");
  if (r.value.programmes) drawProgrammes(r.value.programmes);
  else drawOffers(r.value.offers);
}

function drawOffers(a) {
  say(statusEl, a.offers.length ? "" : t("student.offers_none"));
  expiredEl.textContent = a.expired_left_out ? t("student.expired_left_out", { n: a.expired_left_out }) : "";
  offersEl.replaceChildren(...a.offers.map(offerCard));
  companiesEl.replaceChildren(...a.companies.map(companyCard));
  contactsEl.replaceChildren(...(a.contacts.length ? a.contacts.map(contactCard) : [el("li", { class: "card", text: t("student.contacts_none") })]));
}

function offerCard(o) {
  const meta = [o.company_name, valueLabel("contract_type", o.contract_type), o.level, [o.city, o.region].filter(Boolean).join(", "), o.date_posted ? t("hit.posted", { date: formatDate(o.date_posted) }) : "", o.valid_through ? t("hit.until", { date: formatDate(o.valid_through) }) : "", distanceText(o.distance_km)].filter(Boolean).join(" · ");
  const links = contactLinks(o.contact);
  return el(
    "li",
    { class: "card" },
    el("div", null, el("span", { class: "badge " + (o.open ? "open" : "expired"), text: o.open ? t("hit.open") : t("hit.expired", { date: formatDate(o.valid_through) }) }), o.url ? el("a", { class: "title", href: o.url, rel: "noopener" }, o.title) : el("span", { class: "title", text: o.title })),
    el("div", { class: "meta", text: meta }),
    links.length ? el("div", { class: "contact" }, links) : null,
    whyDetails(o.why),
  );
}

function companyCard(c) {
  const about = [c.sector, c.city, c.size].filter(Boolean).join(" · ");
  const counts = t("student.company_offers", { n: c.similar_offers, open: c.open_offers }) + (c.last_posted ? ", " + t("student.company_last", { date: formatDate(c.last_posted) }) : "");
  return el(
    "li",
    { class: "card" },
    el("div", null, c.website ? el("a", { class: "title", href: c.website, rel: "noopener" }, c.name) : el("span", { class: "title", text: c.name })),
    about ? el("div", { class: "meta", text: about }) : null,
    el("div", { class: "meta", text: counts }),
    c.examples && c.examples.length ? el("div", { class: "meta", text: c.examples.join(" ; ") }) : null,
  );
}

function contactCard(c) {
  const who = [c.name, c.role, c.company_name].filter(Boolean).join(", ");
  return el("li", { class: "card" }, el("div", { text: who }), el("div", { class: "meta", text: t("student.contact_for", { title: c.offer_title }) }), el("div", { class: "contact" }, contactLinks(c)));
}

function drawProgrammes(a) {
  say(statusEl, a.programmes.length ? "" : t("student.programmes_none"));
  programmesEl.replaceChildren(...a.programmes.map((p) => programmeCard(p)));
}

for (const [button, name] of [[tabOffers, "offres"], [tabProgrammes, "formations"]]) {
  button.addEventListener("click", () => {
    if (tab === name) return;
    showTab(name);
    toUrl(true);
    find();
  });
  button.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    e.preventDefault();
    const other = name === "offres" ? tabProgrammes : tabOffers;
    other.focus();
    other.click();
  });
}
form.addEventListener("submit", (e) => { e.preventDefault(); toUrl(true); find(); });
const typed = debounce(() => { toUrl(false); find(); }, 350);
wishIn.addEventListener("input", typed);
for (const sel of [regionSel, contractSel, levelSel]) sel.addEventListener("change", () => { toUrl(true); find(); });

async function load() {
  const s = readState();
  wishIn.value = s.texte || "";
  place.set(s.pres || "", s.rayon || 30);
  showTab(s.onglet === "formations" ? "formations" : "offres");
  try {
    const facets = await facetValues("offer");
    fillSelect(regionSel, "region", facets.region, s.region || "");
    fillSelect(contractSel, "contract_type", facets.contract_type, s.contrat || "");
    fillSelect(levelSel, "level", facets.level, s.niveau || "");
  } catch (err) {
    say(statusEl, err.message, "error");
  }
  if (wishIn.value.trim()) find();
}

window.addEventListener("popstate", load);
load();
