// What every page shares: the strings, building DOM nodes from untrusted text, calling the API
// (errors said in words), the page's state in its URL, the access key, answers in order.
//
// Crawled and posted text is untrusted: it only ever becomes a text node or an attribute value
// set through the DOM. Links are kept only for http(s), mailto and tel.
import { T } from "/assets/strings.js";

/** The string `key`, with `{name}` placeholders replaced. */
export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/** A record field's value as a person reads it (`internship` -> "Stage"); as written otherwise. */
export function valueLabel(field, value) {
  const key = "value." + field + "." + value;
  return Object.prototype.hasOwnProperty.call(T, key) ? T[key] : String(value);
}

/**
 * An element: `attrs` are set as properties or attributes (never as HTML), `children` are
 * nodes or strings (strings become text nodes).
 */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = String(v);
    else if (k === "href") { const safe = safeHref(v); if (safe) e.setAttribute("href", safe); }
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "hidden" || k === "checked" || k === "disabled" || k === "value") e[k] = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** The URL if it is http(s), mailto or tel (a crawled `javascript:` link is dropped). */
export function safeHref(url) {
  if (typeof url !== "string") return null;
  const u = url.trim();
  if (/^(mailto|tel):/i.test(u)) return u;
  try {
    const parsed = new URL(u, location.origin);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

const DATE = new Intl.DateTimeFormat("fr-BE", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** `2026-03-12` as "12 mars 2026"; anything else as written. */
export function formatDate(iso) {
  if (typeof iso !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(iso)) return iso || "";
  const d = new Date(iso.slice(0, 10) + "T00:00:00Z");
  return isNaN(d) ? iso : DATE.format(d);
}

/** Today, `YYYY-MM-DD` (the browser's date). */
export function today() {
  const d = new Date();
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}

/** A number as French writes it (`0.83` -> "0,83"). */
export function num(x, digits) {
  return Number(x).toLocaleString("fr-BE", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** An API answer that is not a success, said in words. */
export class ApiProblem extends Error {
  constructor(status, code, words) {
    super(words);
    this.status = status;
    this.code = code;
  }
}

function words(status, body, headers) {
  const e = (body && body.error) || {};
  switch (e.code) {
    case "unauthorized": return t("error.unauthorized");
    case "forbidden": return t("error.forbidden");
    case "rate_limited": return t("error.rate_limited", { s: headers.get("retry-after") || "quelques" });
    case "not_ready": return t("error.not_ready");
    case "timeout": return t("error.timeout");
    case "payload_too_large": return t("error.payload_too_large");
    case "not_found": return t("error.not_found");
    case "invalid_request": case "bad_request":
      if (e.field === "near" || e.field === "filters.near") return t("place.unknown");
      return t("error.invalid", { message: e.message || "" });
    default: return t("error.internal", { id: (body && body.error && body.error.request_id) || headers.get("x-request-id") || "?" });
  }
}

/**
 * Calls the API: the parsed JSON of a success, or throws an ApiProblem whose message is for a
 * person. `key` is sent as `Authorization: Bearer`; `signal` aborts (an AbortError is thrown).
 */
export async function api(method, path, body, options) {
  const opts = options || {};
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.key) headers.Authorization = "Bearer " + opts.key;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiProblem(0, "network", t("error.network"));
  }
  if (!res.ok) throw await problem(res);
  try { return await res.json(); } catch (_) { return null; }
}

/** The ApiProblem of an answer that is not a success (its error envelope said in words). */
export async function problem(res) {
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  return new ApiProblem(res.status, (data && data.error && data.error.code) || "http_" + res.status, words(res.status, data, res.headers));
}

/**
 * Answers in the order asked: `run(fn)` aborts the previous call still running and gives `fn`
 * an AbortSignal; a result that arrives after a newer call started is dropped (resolves to
 * `undefined`), so a slow answer never overwrites a newer one.
 */
export function latest() {
  let seq = 0;
  let controller = null;
  return async function run(fn) {
    const mine = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const out = await fn(controller.signal);
      return mine === seq ? { value: out } : undefined;
    } catch (e) {
      if (mine !== seq || (e && e.name === "AbortError")) return undefined;
      return { error: e };
    }
  };
}

/** `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** The page's state from its URL: every parameter, as strings. */
export function readState() {
  const out = {};
  for (const [k, v] of new URLSearchParams(location.search)) out[k] = v;
  return out;
}

/**
 * Writes the state into the URL (empty values left out): `push` for a step Back should undo
 * (a tab, a filter), replace while typing.
 */
export function writeState(state, push) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== undefined && v !== null && String(v) !== "") params.set(k, String(v));
  const query = params.toString();
  const url = location.pathname + (query ? "?" + query : "");
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

const KEY_SLOT = "passerelle.key";

/** The access key field `input`: filled from this tab's storage, kept there as typed. */
export function keyField(input) {
  try { input.value = sessionStorage.getItem(KEY_SLOT) || ""; } catch (_) { /* storage refused */ }
  input.addEventListener("input", () => {
    try { sessionStorage.setItem(KEY_SLOT, input.value.trim()); } catch (_) { /* storage refused */ }
  });
  return () => input.value.trim();
}

/** Sets a status line: `kind` is "", "error" or "ok". */
export function say(node, text, kind) {
  node.textContent = text || "";
  node.className = "status" + (kind ? " " + kind : "");
}

/** Mailto and tel links of a person or a school (only what is there). */
export function contactLinks(c) {
  const out = [];
  if (!c) return out;
  for (const email of [].concat(c.email || [], c.emails || [])) {
    if (email) out.push(el("a", { href: "mailto:" + email, "aria-label": t("contact.email", { email }) }, email));
  }
  for (const phone of [].concat(c.phone || [], c.phones || [])) {
    if (phone) out.push(el("a", { href: "tel:" + String(phone).replace(/[^0-9+]/g, ""), "aria-label": t("contact.phone", { phone }) }, phone));
  }
  return out;
}

/** The "pourquoi ?" of a matcher's answer (skills, occupations, words, legs). */
export function whyDetails(why) {
  const items = [];
  if (why.skills && why.skills.length) items.push(t("why.skills", { list: why.skills.join(", ") }));
  if (why.occupations && why.occupations.length) items.push(t("why.occupations", { list: why.occupations.map((o) => o.title || o.code).join(", ") }));
  if (why.terms && why.terms.length) items.push(t("why.terms", { list: why.terms.join(", ") }));
  if (why.keyword) items.push(t("why.keyword", { rank: why.keyword.rank }));
  if (why.semantic) items.push(t("why.semantic", { rank: why.semantic.rank, score: num(why.semantic.score, 2) }));
  items.push(t("why.score", { score: num(why.fused, 3) }));
  return el("details", { class: "why" }, el("summary", { text: t("why.title") }), el("ul", null, items.map((s) => el("li", { text: s }))));
}

/**
 * A programme of a matcher's answer: title, school, level, domain, place, the manager (or the
 * school's own contacts when no manager is published), the website, "pourquoi ?", then `extra`.
 */
export function programmeCard(p, ...extra) {
  const school = p.school || {};
  const place = [p.city || school.city, p.region].filter(Boolean).join(", ");
  const meta = [p.school_name || school.name, p.level, p.domain, place, distanceText(p.distance_km)].filter(Boolean).join(" · ");
  const person = p.contact || {};
  const manager = [person.name, person.role].filter(Boolean).join(", ");
  const links = contactLinks(person);
  const schoolLinks = contactLinks({ emails: school.emails, phones: school.phones });
  const site = school.website ? el("a", { href: school.website, rel: "noopener" }, t("contact.website")) : null;
  return el(
    "li",
    { class: "card" },
    el("div", null, el("span", { class: "badge", text: t("kind.programme") }), p.url ? el("a", { class: "title", href: p.url, rel: "noopener" }, p.title) : el("span", { class: "title", text: p.title })),
    el("div", { class: "meta", text: meta }),
    el(
      "div",
      { class: "contact" },
      manager ? el("span", { text: t("contact.manager") + " : " + manager }) : null,
      links.length ? links : null,
      !links.length && schoolLinks.length ? schoolLinks : null,
      !links.length && !schoolLinks.length ? el("span", { text: t("contact.none") }) : null,
      site,
    ),
    whyDetails(p.why),
    ...extra,
  );
}

/** Fills a `<select>` with a facet's values (labels in French), keeping `chosen` selected. */
export function fillSelect(select, field, counts, chosen) {
  const first = select.options[0];
  select.replaceChildren(first);
  const values = Object.keys(counts || {}).sort((a, b) => valueLabel(field, a).localeCompare(valueLabel(field, b), "fr"));
  if (chosen && !values.includes(chosen)) values.unshift(chosen);
  for (const v of values) select.append(el("option", { value: v, text: valueLabel(field, v) }));
  select.value = chosen || "";
}

/** The facet counts of every offer or programme, for the pages' filters. */
export async function facetValues(kind) {
  const data = await api("GET", "/api/search?limit=0&kind=" + encodeURIComponent(kind));
  return data.facets || {};
}

/** Radii offered by the place fields, in km. */
const RADII = [5, 10, 20, 30, 50, 100];

/** A town as the place fields write it: Belgian towns by name, others with their country. */
export function placeName(p) {
  return p.country === "BE" ? p.name : p.name + ", " + p.country;
}

/**
 * The "près de" field in `box`: a town (suggested from the gazetteer as it is typed) and a
 * radius. `onChange` runs when a town is chosen or cleared, or the radius changes. Returns
 * `get()` ({near, radius_km} or null) and `set(near, radius)`.
 */
export function placeField(box, onChange) {
  const id = box.id || "place";
  const input = el("input", { id: id + "-town", type: "text", list: id + "-towns", autocomplete: "off", spellcheck: "false", placeholder: t("place.placeholder") });
  const list = el("datalist", { id: id + "-towns" });
  const radius = el("select", { id: id + "-radius" }, RADII.map((km) => el("option", { value: String(km), text: t("place.km", { km }) })));
  radius.value = "30";
  box.replaceChildren(
    el("div", null, el("label", { for: input.id, text: t("place.label") }), input, list),
    el("div", null, el("label", { for: radius.id, text: t("place.radius") }), radius),
  );
  const run = latest();
  const suggest = debounce(async () => {
    const q = input.value.trim();
    if (q.length < 2) return list.replaceChildren();
    const r = await run((signal) => api("GET", "/api/places?limit=8&q=" + encodeURIComponent(q), undefined, { signal }));
    if (r && r.value) list.replaceChildren(...r.value.places.map((p) => el("option", { value: placeName(p) })));
  }, 120);
  let last = "";
  const changed = () => {
    const now = input.value.trim();
    if (now === last) return;
    last = now;
    onChange();
  };
  input.addEventListener("input", () => {
    suggest();
    // A town picked from the list, or the field emptied, counts at once; typing waits.
    if (!input.value.trim() || [...list.options].some((o) => o.value === input.value)) changed();
  });
  input.addEventListener("change", changed);
  radius.addEventListener("change", () => { if (input.value.trim()) onChange(); });
  return {
    get: () => (input.value.trim() ? { near: input.value.trim(), radius_km: Number(radius.value) } : null),
    set(near, km) {
      input.value = near || "";
      last = input.value.trim();
      if (km && RADII.includes(Number(km))) radius.value = String(Number(km));
    },
  };
}

/** "à 12 km" beside a result found near a town (nothing without a distance). */
export function distanceText(km) {
  if (typeof km !== "number") return "";
  return km < 1 ? t("place.under_1km") : t("place.distance", { km: num(km, km < 10 ? 1 : 0) });
}
