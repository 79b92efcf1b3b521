// The API reference page: fetches /api/openapi.json (generated from the server's routes and
// types) and shows, per tag, each operation with its scope, parameters, body and answers.
// Everything that comes from the document is set as text (textContent), never as HTML.
"use strict";

const statusEl = document.getElementById("status");
const introEl = document.getElementById("intro");
const tocEl = document.getElementById("toc");
const opsEl = document.getElementById("operations");
const filterEl = document.getElementById("filter");
const METHODS = ["get", "post", "put", "delete", "patch"];
const TYPES = { string: "chaîne", integer: "entier", number: "nombre", boolean: "booléen", object: "objet", array: "tableau", null: "null" };
const PLACES = { path: "chemin", query: "requête", header: "en-tête", cookie: "cookie" };
let doc = null;
// Each operation's card, and how to open it drawn (for a link to `#op-ID`).
const openers = new WeakMap();

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// A line of the document's Markdown, as nodes: `code` and **bold**, the rest as text.
function inline(text) {
  const out = document.createDocumentFragment();
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.append(document.createTextNode(text.slice(last, m.index)));
    out.append(m[1] !== undefined ? el("code", null, m[1]) : el("strong", null, m[2]));
    last = re.lastIndex;
  }
  if (last < text.length) out.append(document.createTextNode(text.slice(last)));
  return out;
}

// A description: paragraphs on blank lines, single line breaks read as spaces.
function paragraphs(text, cls) {
  const out = document.createDocumentFragment();
  for (const para of String(text || "").split(/\n\s*\n/)) {
    const line = para.replace(/\s*\n\s*/g, " ").trim();
    if (!line) continue;
    const p = el("p", cls);
    p.append(inline(line));
    out.append(p);
  }
  return out;
}

function described(text) {
  const span = el("span");
  span.append(inline(String(text || "").replace(/\s*\n\s*/g, " ")));
  return span;
}

function refName(ref) {
  return ref.split("/").pop();
}

function resolve(ref) {
  let node = doc;
  for (const part of ref.replace(/^#\//, "").split("/")) {
    node = node ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  return node || {};
}

// The type of a schema in a few words: `chaîne | null`, `tableau de Offer`, `un de : a, b`.
function typeText(schema) {
  if (!schema) return "";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.enum) return "un de : " + schema.enum.map((v) => JSON.stringify(v)).join(", ");
  const alternatives = schema.oneOf || schema.anyOf;
  if (alternatives) return alternatives.map(typeText).join(" | ");
  if (schema.allOf) return schema.allOf.map(typeText).filter(Boolean).join(" + ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const words = types.map((t) => (t === "array" ? "tableau de " + (typeText(schema.items) || "valeurs") : TYPES[t] || t));
  let text = words.join(" | ") || "valeur";
  if (schema.format) text += " (" + schema.format + ")";
  return text;
}

function limits(schema) {
  const parts = [];
  if (schema.minimum !== undefined) parts.push("min " + schema.minimum);
  if (schema.maximum !== undefined) parts.push("max " + schema.maximum);
  if (schema.minItems !== undefined) parts.push("au moins " + schema.minItems + " élément(s)");
  if (schema.maxItems !== undefined) parts.push("au plus " + schema.maxItems + " élément(s)");
  if (schema.default !== undefined) parts.push("défaut " + JSON.stringify(schema.default));
  return parts.join(", ");
}

// The named schemas a property refers to ($ref, in arrays, in alternatives).
function refsOf(schema, out = []) {
  if (!schema || typeof schema !== "object") return out;
  if (schema.$ref) out.push(schema.$ref);
  for (const key of ["items", "additionalProperties"]) refsOf(schema[key], out);
  for (const key of ["oneOf", "anyOf", "allOf"]) (schema[key] || []).forEach((s) => refsOf(s, out));
  return [...new Set(out)];
}

// A named schema, drawn when opened (so that nested and recursive schemas cost nothing).
function expandable(ref, open) {
  const details = el("details", "schema");
  details.append(el("summary", null, "Schéma " + refName(ref)));
  const drawn = () => {
    if (details.dataset.drawn) return;
    details.dataset.drawn = "1";
    const nested = el("div", "nested");
    nested.append(schemaView(resolve(ref)));
    details.append(nested);
  };
  details.addEventListener("toggle", () => details.open && drawn(), { passive: true });
  if (open) {
    drawn();
    details.open = true;
  }
  return details;
}

// The properties of an object schema, its allOf parts merged in.
function properties(schema, seen = new Set()) {
  let props = [];
  let required = new Set(schema.required || []);
  for (const part of schema.allOf || []) {
    const resolved = part.$ref ? (seen.has(part.$ref) ? {} : (seen.add(part.$ref), resolve(part.$ref))) : part;
    const sub = properties(resolved, seen);
    props = props.concat(sub.props);
    sub.required.forEach((r) => required.add(r));
  }
  for (const [name, prop] of Object.entries(schema.properties || {})) props.push([name, prop]);
  return { props, required };
}

// A schema: an object's fields (its allOf parts merged), the alternatives of a oneOf, or a
// type. `top`: a request body, drawn one level deep at once (its named schema resolved, the
// first alternative open); deeper named schemas open on a click.
function schemaView(schema, top) {
  const out = document.createDocumentFragment();
  if (!schema) return out;
  if (schema.$ref) {
    if (!top) {
      out.append(expandable(schema.$ref));
      return out;
    }
    out.append(el("div", "muted", "Schéma " + refName(schema.$ref)));
    schema = resolve(schema.$ref);
  }
  if (schema.description) out.append(paragraphs(schema.description, "muted"));
  const { props, required } = properties(schema);
  if (props.length) {
    const table = el("table");
    const head = el("tr");
    ["Champ", "Type", "", "Description"].forEach((h) => head.append(el("th", null, h)));
    table.append(head);
    for (const [name, prop] of props) {
      const row = el("tr");
      row.append(el("td", "name", name), el("td", "type", typeText(prop)), el("td", "required", required.has(name) ? "obligatoire" : ""));
      const cell = el("td");
      cell.append(described(prop.description || firstDescription(prop)));
      const bounds = limits(prop);
      if (bounds) cell.append(el("div", "muted", bounds));
      for (const ref of refsOf(prop)) cell.append(expandable(ref));
      row.append(cell);
      table.append(row);
    }
    out.append(table);
    if (schema.additionalProperties === false) out.append(el("div", "muted", "Aucun autre champ n'est accepté."));
    return out;
  }
  const alternatives = schema.oneOf || schema.anyOf;
  if (alternatives) {
    out.append(el("div", "muted", "Un de :"));
    const list = el("ul");
    alternatives.forEach((alt, i) => {
      const item = el("li");
      item.append(el("span", "type", typeText(alt)), document.createTextNode(" "));
      if (alt.description) item.append(described(alt.description));
      for (const ref of refsOf(alt)) item.append(expandable(ref, top && i === 0));
      list.append(item);
    });
    out.append(list);
    return out;
  }
  const line = el("div");
  line.append(el("span", "type", typeText(schema)));
  out.append(line);
  for (const ref of refsOf(schema)) out.append(expandable(ref));
  return out;
}

function firstDescription(schema) {
  for (const key of ["oneOf", "anyOf", "allOf"]) {
    for (const s of schema[key] || []) if (s.description) return s.description;
  }
  return "";
}

function scopeBadge(op) {
  const scope = op["x-scope"];
  if (!scope) return el("span", "scope none", "sans portée : ouvert à tous");
  if (op["x-public"]) return el("span", "scope public", "portée « " + scope + " » : publique par défaut");
  return el("span", "scope key", "clé avec la portée « " + scope + " »");
}

function contentView(content) {
  const out = document.createDocumentFragment();
  for (const [type, media] of Object.entries(content || {})) {
    out.append(el("div", "muted", "Type de contenu : " + type));
    if (media.schema) out.append(schemaView(media.schema, true));
  }
  return out;
}

function parametersView(params) {
  const table = el("table");
  const head = el("tr");
  ["Nom", "Où", "Type", "", "Description"].forEach((h) => head.append(el("th", null, h)));
  table.append(head);
  for (const p0 of params) {
    const p = p0.$ref ? resolve(p0.$ref) : p0;
    const row = el("tr");
    row.append(el("td", "name", p.name), el("td", null, PLACES[p.in] || p.in), el("td", "type", typeText(p.schema)));
    row.append(el("td", "required", p.required ? "obligatoire" : ""));
    const cell = el("td");
    cell.append(described(p.description));
    const bounds = p.schema ? limits(p.schema) : "";
    if (bounds) cell.append(el("div", "muted", bounds));
    row.append(cell);
    table.append(row);
  }
  return table;
}

function responsesView(responses) {
  const table = el("table");
  const head = el("tr");
  ["Statut", "Description", "Corps"].forEach((h) => head.append(el("th", null, h)));
  table.append(head);
  for (const [status, r0] of Object.entries(responses || {})) {
    const shared = r0.$ref ? refName(r0.$ref) : null;
    const r = r0.$ref ? resolve(r0.$ref) : r0;
    const row = el("tr");
    row.append(el("td", "status s" + status[0], status));
    const text = el("td");
    if (shared) text.append(el("div", "muted", shared));
    text.append(described(r.description));
    for (const [name, header] of Object.entries(r.headers || {})) {
      const line = el("div", "muted");
      line.append(document.createTextNode("En-tête "), el("code", null, name), document.createTextNode(" : "), described(header.description));
      text.append(line);
    }
    row.append(text);
    const body = el("td");
    for (const [type, media] of Object.entries(r.content || {})) {
      body.append(el("div", "muted", type));
      if (media.schema && media.schema.$ref) body.append(expandable(media.schema.$ref));
      else if (media.schema) body.append(el("span", "type", typeText(media.schema)));
    }
    row.append(body);
    table.append(row);
  }
  return table;
}

function operationView(method, path, op) {
  const card = el("details", "op");
  if (op.operationId) card.id = "op-" + op.operationId;
  card.dataset.search = [method, path, op.operationId, op.summary, op.description, op["x-scope"], (op.tags || []).join(" ")].join(" ").toLowerCase();
  const summary = el("summary");
  summary.append(el("span", "method m-" + method, method.toUpperCase()), el("span", "path", path), el("span", "summary", op.summary || ""), scopeBadge(op));
  card.append(summary);
  const drawn = () => {
    if (card.dataset.drawn) return;
    card.dataset.drawn = "1";
    const body = el("div", "body");
    body.append(paragraphs(op.description));
    if (op.parameters && op.parameters.length) {
      body.append(el("h4", null, "Paramètres"), parametersView(op.parameters));
    }
    if (op.requestBody) {
      const rb = op.requestBody.$ref ? resolve(op.requestBody.$ref) : op.requestBody;
      body.append(el("h4", null, "Corps de la requête" + (rb.required ? " (obligatoire)" : "")));
      if (rb.description) body.append(paragraphs(rb.description, "muted"));
      body.append(contentView(rb.content));
    }
    body.append(el("h4", null, "Réponses"), responsesView(op.responses));
    card.append(body);
  };
  card.addEventListener("toggle", () => card.open && drawn(), { passive: true });
  openers.set(card, () => {
    drawn();
    card.open = true;
  });
  return card;
}

function draw() {
  document.title = (doc.info.title || "API") + " " + (doc.info.version || "") + " — référence de l'API";
  const title = document.getElementById("title");
  title.textContent = (doc.info.title || "API") + " — référence de l'API ";
  title.append(el("span", "muted", "version " + doc.info.version + ", OpenAPI " + doc.openapi));
  introEl.replaceChildren(paragraphs(doc.info.description));
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  let count = 0;
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      count += 1;
      const tag = (op.tags && op.tags[0]) || "autres";
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push([method, path, op]);
    }
  }
  opsEl.replaceChildren();
  tocEl.replaceChildren(el("strong", null, "Sections : "));
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    const section = el("section");
    section.id = "tag-" + tag.name;
    section.append(el("h2", null, tag.name + " (" + ops.length + ")"));
    if (tag.description) {
      const d = el("div", "tag-description");
      d.append(inline(tag.description));
      section.append(d);
    }
    for (const [method, path, op] of ops) section.append(operationView(method, path, op));
    opsEl.append(section);
    const link = el("a", null, tag.name);
    link.href = "#tag-" + tag.name;
    tocEl.append(link);
  }
  statusEl.textContent = count + " opérations, générées à partir du code du serveur. Cliquez sur une opération pour voir ses paramètres, son corps et ses réponses.";
}

function applyFilter() {
  const words = filterEl.value.toLowerCase().split(/\s+/).filter(Boolean);
  let total = 0;
  for (const section of opsEl.querySelectorAll("section")) {
    let shown = 0;
    for (const card of section.querySelectorAll("details.op")) {
      const match = words.every((w) => card.dataset.search.includes(w));
      card.classList.toggle("hidden", !match);
      if (match) shown += 1;
    }
    section.classList.toggle("hidden", shown === 0);
    total += shown;
  }
  let none = document.getElementById("no-match");
  if (!none) {
    none = el("p", "muted", "Aucune opération ne correspond au filtre.");
    none.id = "no-match";
    opsEl.append(none);
  }
  none.classList.toggle("hidden", total > 0);
}

filterEl.addEventListener("input", applyFilter);

fetch("/api/openapi.json", { headers: { accept: "application/json" } })
  .then((r) => {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  })
  .then((d) => {
    doc = d;
    draw();
    // `/api/docs?q=offers`: the page opens filtered, for a link to a group of operations.
    const asked = new URLSearchParams(location.search).get("q");
    if (asked) {
      filterEl.value = asked;
      applyFilter();
    }
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && openers.has(target)) openers.get(target)();
    if (target) target.scrollIntoView();
  })
  .catch((e) => {
    statusEl.textContent = "Le document /api/openapi.json n'a pas pu être lu : " + e.message;
  });
