// Tableau de bord: the offers' trends as bar charts (the period chosen against the same dates a
// year earlier: a filled bar and a dashed outline, each with its number written, so that no
// colour is needed to read them), every chart with its numbers as a table, and the gaps table
// (occupations with many offers and few programmes). The period is in the URL (du, au).
import { t, el, api, latest, readState, writeState, say, formatDate, valueLabel } from "/assets/common.js";

const SVG = "http://www.w3.org/2000/svg";
const form = document.getElementById("period-form");
const fromIn = document.getElementById("from");
const toIn = document.getElementById("to");
const statusEl = document.getElementById("status");
const headline = document.getElementById("headline");
const gapsBody = document.querySelector("#gaps-table tbody");
const unplaced = document.getElementById("unplaced");
const run = latest();
/** Requests made while the server is still ranking offers for the ranked-first chart. */
let pendingRounds = 0;

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function short(label, n) {
  return label.length > n ? label.slice(0, n - 1) + "…" : label;
}

/** "+25 %", "−40 %", "nouveau" (nothing a year before), "" (no change). */
function change(trend) {
  if (trend.previous === 0) return trend.current > 0 ? t("dash.new") : "";
  const pct = Math.round((trend.change || 0) * 100);
  return (pct > 0 ? "+" : pct < 0 ? "−" : "") + Math.abs(pct) + " %";
}

/**
 * A horizontal bar chart: per row its label, the period's bar (filled) and the year before's
 * (dashed outline), each with its count; then the same numbers as a table.
 */
function chart(section, rows, labelName) {
  for (const old of section.querySelectorAll("figure, details, p.empty")) old.remove();
  if (!rows.length) {
    section.append(el("p", { class: "empty hint", text: t("dash.empty") }));
    return;
  }
  const max = Math.max(1, ...rows.map((r) => Math.max(r.current, r.previous)));
  // Drawn at the section's own width, so that the 13 px labels stay 13 px on a phone.
  const width = Math.max(300, Math.round(section.clientWidth) || 590);
  const labelW = Math.round(width * 0.36), barW = width - labelW - 40, rowH = 34;
  const height = rows.length * rowH + 4;
  const title = section.querySelector("h2").textContent;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title + " : " + rows.map((r) => `${r.label} ${r.current} (${r.previous})`).join(", ") });
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const g = svg("g");
    g.append(svg("title", {}, `${r.label} : ${r.current} — ${t("dash.legend_previous")} : ${r.previous}`));
    g.append(svg("text", { x: 0, y: y + 20 }, short(r.label, Math.floor(labelW / 7.5))));
    const cw = Math.max(1, (r.current / max) * barW), pw = Math.max(1, (r.previous / max) * barW);
    g.append(svg("rect", { class: "bar-current", x: labelW, y: y + 3, width: cw, height: 12, rx: 2 }));
    g.append(svg("text", { class: "value", x: labelW + cw + 5, y: y + 14 }, r.current));
    g.append(svg("rect", { class: "bar-previous", x: labelW, y: y + 18, width: pw, height: 10, rx: 2 }));
    g.append(svg("text", { class: "value", x: labelW + pw + 5, y: y + 28 }, r.previous));
    root.append(g);
  });
  section.append(el("figure", null, root));
  const table = el(
    "table",
    null,
    el("thead", null, el("tr", null, [labelName, t("dash.col_current"), t("dash.col_previous"), t("dash.col_change")].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", null, rows.map((r) => el("tr", null, el("td", { text: r.label }), el("td", { class: "n", text: r.current }), el("td", { class: "n", text: r.previous }), el("td", { class: "n", text: change(r) })))),
  );
  section.append(el("details", null, el("summary", { text: t("dash.numbers") }), el("div", { class: "table-wrap" }, table)));
}

function toUrl(push) {
  writeState({ du: fromIn.value, au: toIn.value }, push);
}

function query() {
  const p = new URLSearchParams({ limit: "10" });
  if (fromIn.value) p.set("from", fromIn.value);
  if (toIn.value) p.set("to", toIn.value);
  return p.toString();
}

async function load() {
  if (!pendingRounds) say(statusEl, t("common.loading"));
  const r = await run((signal) => Promise.all([api("GET", "/api/stats?" + query(), undefined, { signal }), api("GET", "/api/stats/gaps?" + query(), undefined, { signal })]));
  if (!r) return;
  if (r.error) return say(statusEl, r.error.message, "error");
  const [stats, gaps] = r.value;
  say(statusEl, t("dash.period", { from: formatDate(stats.period.from), to: formatDate(stats.period.to), pfrom: formatDate(stats.previous.from), pto: formatDate(stats.previous.to) }));
  if (!fromIn.value) fromIn.value = stats.period.from;
  if (!toIn.value) toIn.value = stats.period.to;
  headline.textContent = t("dash.offers", stats.offers) + (change(stats.offers) ? " (" + change(stats.offers) + ")." : ".") + (stats.undated_offers ? " " + t("dash.undated", { n: stats.undated_offers }) : "");
  const rows = (list, name) => list.map((x) => ({ label: name(x), current: x.current, previous: x.previous, change: x.change }));
  chart(document.getElementById("skills"), rows(stats.skills, (x) => x.skill), t("dash.skill"));
  chart(document.getElementById("companies"), rows(stats.companies, (x) => x.company), t("dash.company"));
  chart(document.getElementById("changes"), rows(stats.company_changes, (x) => x.company), t("dash.company"));
  chart(document.getElementById("levels"), rows(stats.levels, (x) => (x.level === "unspecified" ? t("dash.level_unspecified") : valueLabel("level", x.level))), t("dash.level"));
  const ranked = stats.ranked_offers;
  const older = ranked.left_out - ranked.pending;
  document.getElementById("firsts-note").textContent =
    t("dash.firsts_note", ranked) + (older ? " " + t("dash.firsts_left_out", { n: older }) : "") + (ranked.pending ? " " + t("dash.firsts_pending", { n: ranked.pending }) : "");
  // The server ranks for a couple of seconds per request and keeps what it ranked: ask again
  // until every offer is ranked.
  if (ranked.pending && pendingRounds++ < 30) setTimeout(load, 300);
  else if (!ranked.pending) pendingRounds = 0;
  chart(document.getElementById("firsts"), rows(stats.ranked_first, (x) => [x.title, x.school_name].filter(Boolean).join(" — ")), t("dash.programme"));
  chart(document.getElementById("programmes"), rows(stats.programmes, (x) => [x.title, x.school_name].filter(Boolean).join(" — ")), t("dash.programme"));
  gapsBody.replaceChildren(
    ...(gaps.occupations.length
      ? gaps.occupations.map((g) =>
          el(
            "tr",
            null,
            el("td", { text: g.code + (g.title ? " — " + g.title : "") }),
            el("td", { class: "n", text: g.current }),
            el("td", { class: "n", text: g.previous }),
            el("td", { class: "n", text: g.programmes || t("dash.gap_none") }),
            el("td", { class: "n", text: g.related_programmes }),
            el("td", { class: "n", text: g.shortfall.toLocaleString("fr-BE", { maximumFractionDigits: 2 }) }),
            el("td", { text: g.examples.join(" ; ") || t("dash.gap_none") }),
          ),
        )
      : [el("tr", null, el("td", { colspan: "7", text: t("dash.empty") }))]),
  );
  unplaced.textContent = gaps.offers_without_occupation ? t("dash.unplaced", { n: gaps.offers_without_occupation }) : "";
}

form.addEventListener("submit", (e) => { e.preventDefault(); toUrl(true); load(); });
window.addEventListener("popstate", () => { const s = readState(); fromIn.value = s.du || ""; toIn.value = s.au || ""; load(); });

const s = readState();
fromIn.value = s.du || "";
toIn.value = s.au || "";
load();
