// Recherche: search as you type, kind tabs with counts, facets with several values, more
// results on demand, "pourquoi ?" per hit, keyboard navigation. The state (q, kind, filters,
// how many shown) is the URL: a link can be shared and Back works.
import { t, el, api, latest, debounce, readState, writeState, valueLabel, formatDate, today, num, safeHref, placeField, placeName, distanceText } from "/assets/common.js";

const KINDS = ["school", "programme", "offer", "company", "question"];
const FACETS = ["region", "city", "country", "contract_type", "level", "domain", "school_type", "tag", "language"];
const PAGE = 20;
const MAX = 100;

const input = document.getElementById("q");
const form = document.getElementById("search-form");
const tabsEl = document.getElementById("tabs");
const statusEl = document.getElementById("status");
const facetsEl = document.getElementById("facets");
const hitsEl = document.getElementById("hits");
const moreBtn = document.getElementById("more");
const moreMax = document.getElementById("more-max");
const emptyEl = document.getElementById("empty");
const emptyCounts = document.getElementById("empty-counts");
const recentEl = document.getElementById("recent");
const recentTitle = document.getElementById("recent-title");
const byDistance = document.getElementById("by-distance");
/** How many recent open offers the empty box shows. */
const RECENT = 6;

/** The page's state: the words, the kind tab, each facet's chosen values, hits shown, the town
 * and radius, nearest first or not. */
let state = fromUrl();
const run = latest();

function fromUrl() {
  const s = readState();
  const filters = {};
  for (const f of FACETS) if (s[f]) filters[f] = s[f].split(",").filter(Boolean);
  const n = Math.min(MAX, Math.max(PAGE, parseInt(s.n || "", 10) || PAGE));
  const near = (s.near || "").trim();
  return { q: s.q || "", kind: KINDS.includes(s.kind) ? s.kind : "", filters, n, near, radius: Number(s.radius_km) || 30, sort: near && s.sort === "distance" ? "distance" : "" };
}

function toUrl(push) {
  const out = { q: state.q, kind: state.kind, n: state.n > PAGE ? state.n : "", near: state.near, radius_km: state.near && state.radius !== 30 ? state.radius : "", sort: state.sort };
  for (const [f, values] of Object.entries(state.filters)) out[f] = values.join(",");
  writeState(out, push);
}

/** The query string of a search, without the filter of `without` (a facet's own counts). */
function params(limit, without) {
  const p = new URLSearchParams({ q: state.q, limit: String(limit), explain: "true" });
  if (state.kind && without !== "kind") p.set("kind", state.kind);
  for (const [f, values] of Object.entries(state.filters)) if (f !== without && values.length) p.set(f, values.join(","));
  if (state.near) {
    p.set("near", state.near);
    p.set("radius_km", String(state.radius));
    if (state.sort === "distance" && state.q.trim()) p.set("sort", "distance");
  }
  return p.toString();
}

function hasFilters() {
  return Object.values(state.filters).some((v) => v.length);
}

async function search() {
  const browsing = !state.q.trim() && !state.kind && !hasFilters() && !state.near;
  hitsEl.setAttribute("aria-busy", "true");
  const result = await run(async (signal) => {
    if (browsing) {
      // The newest offers (by posting date), of which the open ones are shown.
      const [all, recent] = await Promise.all([
        api("GET", "/api/search?limit=0", undefined, { signal }),
        api("GET", "/api/search?kind=offer&sort=recent&limit=30", undefined, { signal }),
      ]);
      return { browsing: true, all, recent };
    }
    // The page, the kind counts without the kind tab, and each filtered facet's counts without
    // its own filter, so that a second value of a facet can be chosen.
    const asks = [api("GET", "/api/search?" + params(state.n), undefined, { signal })];
    asks.push(state.kind ? api("GET", "/api/search?" + params(0, "kind"), undefined, { signal }) : null);
    const filtered = Object.keys(state.filters).filter((f) => state.filters[f].length);
    for (const f of filtered) asks.push(api("GET", "/api/search?" + params(0, f), undefined, { signal }));
    const [page, kinds, ...own] = await Promise.all(asks);
    const facets = Object.assign({}, page.facets);
    filtered.forEach((f, i) => { facets[f] = own[i].facets[f] || {}; });
    return { page, kindCounts: (kinds || page).facets.kind || {}, facets };
  });
  hitsEl.removeAttribute("aria-busy");
  if (!result) return;
  if (result.error) {
    statusEl.textContent = result.error.message;
    statusEl.className = "status error";
    return;
  }
  statusEl.className = "status";
  if (result.value.browsing) return drawEmpty(result.value.all, result.value.recent);
  draw(result.value);
}

function drawEmpty(all, recent) {
  emptyEl.hidden = false;
  const now = today();
  const open = recent.hits.filter((h) => !(h.record && h.record.valid_through && h.record.valid_through < now)).slice(0, RECENT);
  recentTitle.hidden = open.length === 0;
  recentEl.replaceChildren(...open.map((hit, i) => drawHit(hit, i, now)));
  hitsEl.replaceChildren();
  facetsEl.replaceChildren();
  moreBtn.hidden = true;
  moreMax.hidden = true;
  drawTabs((all.facets && all.facets.kind) || {}, all.total);
  const counts = KINDS.filter((k) => all.facets && all.facets.kind && all.facets.kind[k]).map((k) => all.facets.kind[k] + " " + t("kinds." + k).toLowerCase());
  emptyCounts.textContent = counts.length ? t("search.empty_counts") + " " + counts.join(", ") + "." : "";
  statusEl.textContent = "";
}

function drawTabs(kindCounts, totalAll) {
  const total = totalAll !== undefined ? totalAll : Object.values(kindCounts).reduce((a, b) => a + b, 0);
  const tabs = [["", t("kind.all"), total]].concat(KINDS.map((k) => [k, t("kinds." + k), kindCounts[k] || 0]));
  tabsEl.replaceChildren(
    ...tabs.map(([kind, name, count]) => {
      const selected = state.kind === kind;
      return el(
        "button",
        { type: "button", role: "tab", "aria-selected": String(selected), tabindex: selected ? "0" : "-1", "data-kind": kind, onclick: () => choose(kind) },
        name,
        " ",
        el("span", { class: "count", text: "(" + count + ")" }),
      );
    }),
  );
}

function choose(kind) {
  if (state.kind === kind) return;
  state.kind = kind;
  state.n = PAGE;
  toUrl(true);
  search();
}

tabsEl.addEventListener("keydown", (e) => {
  const tabs = [...tabsEl.querySelectorAll("[role=tab]")];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
  if (next === null) return;
  e.preventDefault();
  const target = tabs[(next + tabs.length) % tabs.length];
  target.focus();
  choose(target.dataset.kind);
});

function draw({ page, kindCounts, facets }) {
  emptyEl.hidden = true;
  drawTabs(kindCounts);
  const n = page.total;
  let line = n === 0 ? t("search.none", { q: state.q }) : n === 1 ? t("search.count_one") : t("search.count_many", { n: n.toLocaleString("fr-BE") });
  if (n > 0 && page.words_matched < page.words_typed) line += " — " + t("search.partial");
  if (n > 0 && state.q.trim()) line += " · " + (page.semantic && page.semantic.used ? t("search.hybrid") : t("search.keyword_only"));
  if (page.near && page.near.place) line += " · " + t("place.around", { place: placeName(page.near.place), km: page.near.radius_km });
  statusEl.textContent = line;
  drawFacets(facets);
  const now = today();
  hitsEl.replaceChildren(...page.hits.map((hit, i) => drawHit(hit, i, now)));
  const more = page.hits.length < n;
  moreBtn.hidden = !more || state.n >= MAX;
  moreMax.hidden = !(more && state.n >= MAX);
}

function drawFacets(facets) {
  const boxes = [];
  for (const field of FACETS) {
    const counts = facets[field] || {};
    const chosen = state.filters[field] || [];
    const values = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 10);
    for (const v of chosen) if (!values.some(([x]) => x === v)) values.push([v, 0]);
    if (values.length < 1 || (values.length === 1 && !chosen.length && field !== "tag")) continue;
    boxes.push(
      el(
        "fieldset",
        { class: "facet" },
        el("legend", { text: t("facet." + field) }),
        values.map(([value, count]) =>
          el(
            "label",
            null,
            el("input", { type: "checkbox", checked: chosen.includes(value), onchange: (e) => toggle(field, value, e.target.checked) }),
            el("span", { text: valueLabel(field, value) }),
            el("span", { class: "n", text: "(" + count + ")" }),
          ),
        ),
      ),
    );
  }
  if (hasFilters()) boxes.push(el("button", { type: "button", onclick: clearFilters }, t("facet.clear")));
  facetsEl.replaceChildren(...boxes);
}

function toggle(field, value, on) {
  const list = (state.filters[field] || []).filter((v) => v !== value);
  if (on) list.push(value);
  state.filters[field] = list;
  if (!list.length) delete state.filters[field];
  state.n = PAGE;
  toUrl(true);
  search();
}

function clearFilters() {
  state.filters = {};
  state.n = PAGE;
  toUrl(true);
  search();
}

/** The words the server marked in a hit's title and snippet. */
function markedWords(...htmls) {
  const seen = new Set();
  for (const h of htmls) {
    const box = document.createElement("template");
    box.innerHTML = h || ""; // server-escaped text with <mark> only
    for (const m of box.content.querySelectorAll("mark")) seen.add(m.textContent.toLowerCase());
  }
  return [...seen];
}

function metaLine(hit, now) {
  const r = hit.record || {};
  const parts = [];
  const add = (v) => { if (v) parts.push(v); };
  add(r.school_name);
  add(r.company_name);
  if (r.contract_type) add(valueLabel("contract_type", r.contract_type));
  add(r.level);
  add(r.school_type);
  add(r.domain || r.sector);
  add([r.city, r.region].filter(Boolean).join(", "));
  if (r.country && !r.region) add(valueLabel("country", r.country));
  add(r.tag);
  if (hit.kind === "offer" && r.date_posted) add(t("hit.posted", { date: formatDate(r.date_posted) }));
  if (hit.kind === "offer" && r.valid_through && r.valid_through >= now) add(t("hit.until", { date: formatDate(r.valid_through) }));
  add(distanceText(hit.distance_km));
  return parts.join(" · ");
}

function drawHit(hit, i, now) {
  const r = hit.record || {};
  // A link to the page it came from when there is one; focusable for the arrows either way.
  const link = safeHref(r.url || r.website);
  const title = el("a", { class: "title", href: link, tabindex: link ? null : "0", "data-index": String(i) });
  title.innerHTML = hit.title_html; // server-escaped, <mark> only
  const badges = [el("span", { class: "badge", text: t("kind." + hit.kind) })];
  if (hit.kind === "offer") {
    const expired = r.valid_through && r.valid_through < now;
    badges.push(el("span", { class: "badge " + (expired ? "expired" : "open"), text: expired ? t("hit.expired", { date: formatDate(r.valid_through) }) : t("hit.open") }));
  }
  const snippet = el("div", { class: "snippet" });
  snippet.innerHTML = hit.snippet; // server-escaped, <mark> only
  const children = [el("div", null, badges, title), el("div", { class: "meta", text: metaLine(hit, now) }), snippet];
  if (hit.kind === "question" && r.code) children.push(el("pre", { class: "code", text: r.code }));
  if (hit.explain) children.push(why(hit));
  return el("li", { class: "hit" }, children);
}

function why(hit) {
  const x = hit.explain;
  const items = [];
  if (x.keyword) items.push(t("hit.why_keyword", { rank: x.keyword.rank, score: num(x.keyword.score, 2) }));
  else items.push(t("hit.why_no_keyword"));
  if (x.semantic) items.push(t("hit.why_semantic", { rank: x.semantic.rank, score: num(x.semantic.score, 2) }));
  else if (state.q.trim()) items.push(t("hit.why_no_semantic"));
  const words = markedWords(hit.title_html, hit.snippet);
  if (words.length) items.push(t("hit.why_words", { words: words.join(", ") }));
  if (typeof x.title_words === "number") items.push(t("hit.why_title", { share: Math.round(x.title_words * 100) }));
  items.push(t("hit.why_fused", { score: num(x.fused, 4) }));
  return el("details", { class: "why" }, el("summary", { text: t("hit.why") }), el("ul", null, items.map((s) => el("li", { text: s }))));
}

// Keyboard: arrow down from the box into the results, up and down through them, Escape back.
input.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown") {
    const first = hitsEl.querySelector(".title");
    if (first) { e.preventDefault(); first.focus(); }
  }
});
hitsEl.addEventListener("keydown", (e) => {
  const titles = [...hitsEl.querySelectorAll(".title")];
  const i = titles.indexOf(document.activeElement);
  if (e.key === "Escape") { e.preventDefault(); input.focus(); return; }
  if (i < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
  e.preventDefault();
  if (e.key === "ArrowUp" && i === 0) input.focus();
  else titles[Math.min(titles.length - 1, Math.max(0, i + (e.key === "ArrowDown" ? 1 : -1)))].focus();
});
document.addEventListener("keydown", (e) => {
  if (e.key === "/" && document.activeElement !== input && !/input|textarea|select/i.test(document.activeElement.tagName)) {
    e.preventDefault();
    input.focus();
  }
});

const typed = debounce(() => {
  state.n = PAGE;
  toUrl(false);
  search();
}, 80);
input.addEventListener("input", () => { state.q = input.value; typed(); });
form.addEventListener("submit", (e) => { e.preventDefault(); state.q = input.value; toUrl(true); search(); });
moreBtn.addEventListener("click", () => {
  state.n = Math.min(MAX, state.n + PAGE);
  toUrl(false);
  search();
});
const place = placeField(document.getElementById("place"), () => {
  const chosen = place.get();
  state.near = chosen ? chosen.near : "";
  state.radius = chosen ? chosen.radius_km : 30;
  if (!state.near) state.sort = "";
  byDistance.disabled = !state.near;
  byDistance.checked = state.sort === "distance";
  state.n = PAGE;
  toUrl(true);
  search();
});
byDistance.addEventListener("change", () => {
  state.sort = byDistance.checked && state.near ? "distance" : "";
  toUrl(true);
  search();
});

function showState() {
  input.value = state.q;
  place.set(state.near, state.radius);
  byDistance.disabled = !state.near;
  byDistance.checked = state.sort === "distance";
}

window.addEventListener("popstate", () => {
  state = fromUrl();
  showState();
  search();
});

showState();
input.focus();
search();
