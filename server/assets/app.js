// The search page: search as you type, facets as filters. Crawled text is untrusted: every
// field is set with textContent; only snippet and title_html, which the server escapes and
// marks up with <mark> alone, are set as HTML.
"use strict";
const input = document.getElementById("q");
const hitsEl = document.getElementById("hits");
const facetsEl = document.getElementById("facets");
const statusEl = document.getElementById("status");
const KIND_LABELS = { school: "école", programme: "formation", offer: "offre", company: "entreprise", question: "question" };
const FACET_LABELS = { kind: "Type", region: "Région", city: "Ville", contract_type: "Contrat", level: "Niveau", domain: "Domaine", school_type: "Type d'école", tag: "Langage", language: "Langue", country: "Pays" };
const selected = {};
let seq = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function meta(hit) {
  const r = hit.record || {};
  const parts = [r.school_name, r.company_name, r.level, r.contract_type, r.school_type, r.city, r.region, r.tag, r.date_posted];
  return parts.filter(Boolean).join(" · ");
}

function render(data) {
  hitsEl.replaceChildren();
  for (const hit of data.hits) {
    const div = el("div", "hit");
    div.append(el("span", "kind", KIND_LABELS[hit.kind] || hit.kind));
    const title = el("span", "title");
    title.innerHTML = hit.title_html;
    div.append(title, el("div", "meta", meta(hit)));
    // Found by meaning only: none of the typed words is in it, say so.
    if (hit.explain && !hit.explain.keyword && hit.explain.semantic) {
      div.append(el("div", "meta", "trouvé par le sens (aucun mot tapé n'y figure)"));
    }
    const snippet = el("div", "snippet");
    snippet.innerHTML = hit.snippet;
    div.append(snippet);
    hitsEl.append(div);
  }
  statusEl.textContent = data.total + " résultat" + (data.total > 1 ? "s" : "") +
    (data.words_matched < data.words_typed ? " (tous les mots ne sont pas trouvés)" : "") +
    (data.semantic && data.semantic.used ? " · recherche par les mots et par le sens" : "");
  facetsEl.replaceChildren();
  for (const [field, values] of Object.entries(data.facets)) {
    if (field === "country" || Object.keys(values).length < 1) continue;
    const box = el("div", "facet");
    box.append(el("h3", null, FACET_LABELS[field] || field));
    const sorted = Object.entries(values).sort((a, b) => b[1] - a[1]).slice(0, 8);
    for (const [value, count] of sorted) {
      const label = el("label");
      const check = el("input");
      check.type = "checkbox";
      check.checked = selected[field] === value;
      check.addEventListener("change", () => {
        if (check.checked) selected[field] = value; else delete selected[field];
        run();
      });
      label.append(check, document.createTextNode(" " + (field === "kind" ? (KIND_LABELS[value] || value) : value) + " (" + count + ")"));
      box.append(label);
    }
    facetsEl.append(box);
  }
}

async function run() {
  const params = new URLSearchParams({ q: input.value, limit: "20", explain: "true" });
  for (const [k, v] of Object.entries(selected)) params.set(k, v);
  const mine = ++seq;
  try {
    const res = await fetch("/api/search?" + params.toString());
    const data = await res.json();
    if (mine !== seq) return;
    if (!res.ok) { statusEl.textContent = data.error ? data.error.message : "erreur"; return; }
    render(data);
  } catch (e) {
    if (mine === seq) statusEl.textContent = "Le service ne répond pas.";
  }
}

let timer = null;
input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 80); });
run();
