// Contributeur: a question being written (stem, code, options) -> its near-duplicates with
// their verdict and the predicted language tag, updated while typing; saved with an access key,
// after a confirmation when the check calls it a duplicate. The draft is the URL (texte, code,
// options, tag), so a link shows the same check.
import { t, el, api, latest, debounce, readState, writeState, keyField, say, facetValues } from "/assets/common.js";

const form = document.getElementById("question-form");
const textIn = document.getElementById("text");
const codeIn = document.getElementById("code");
const optionsIn = document.getElementById("options");
const answerIn = document.getElementById("answer");
const tagIn = document.getElementById("tag");
const tagList = document.getElementById("tags");
const guessEl = document.getElementById("guess");
const statusEl = document.getElementById("status");
const similarEl = document.getElementById("similar");
const saveStatus = document.getElementById("save-status");
const confirmBox = document.getElementById("confirm");
const confirmText = document.getElementById("confirm-text");
const key = keyField(document.getElementById("key"));

const run = latest();
/** The last check's answer, for the duplicate confirmation. */
let last = null;
let guessedTag = null;

function draft() {
  const q = { text: textIn.value.trim() };
  if (codeIn.value.trim()) q.code = codeIn.value;
  const options = optionsIn.value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (options.length) q.options = options;
  return q;
}

function toUrl() {
  writeState({ texte: textIn.value, code: codeIn.value, options: optionsIn.value, tag: tagIn.value }, false);
}

function reason(r) {
  const key = "reason." + r;
  const known = t(key);
  if (known !== key) return known;
  return r
    .replace(/^similarity ([0-9.]+)/, (_, x) => t("contributor.similarity", { score: Math.round(parseFloat(x) * 100) }))
    .replace(/% of the words in common/, "% des mots en commun");
}

async function check() {
  const q = draft();
  last = null;
  if (!q.text) {
    say(statusEl, "");
    guessEl.textContent = "";
    similarEl.replaceChildren();
    return;
  }
  const r = await run((signal) => api("POST", "/api/questions/similar", Object.assign({ limit: 5 }, q), { signal }));
  if (!r) return;
  if (r.error) return say(statusEl, r.error.message, "error");
  last = r.value;
  const g = last.tag || {};
  guessedTag = g.tag || null;
  guessEl.textContent = g.tag ? t("contributor.guess", { tag: g.tag, confidence: Math.round((g.confidence || 0) * 100) }) : t("contributor.guess_none");
  tagIn.placeholder = g.tag || "";
  const shown = last.questions.filter((x) => x.verdict !== "distinct" || last.questions.indexOf(x) < 3);
  say(statusEl, shown.length ? "" : t("contributor.similar_none"));
  similarEl.replaceChildren(
    ...shown.map((x) =>
      el(
        "li",
        { class: "card" },
        el("div", null, el("span", { class: "badge " + x.verdict, text: t("verdict." + x.verdict) }), el("span", { class: "meta", text: t("contributor.similarity", { score: Math.round(x.similarity * 100) }) + (x.tag ? " · " + x.tag : "") })),
        el("div", { class: "title", text: x.text }),
        x.code ? el("pre", { class: "code", text: x.code }) : null,
        x.options && x.options.length ? el("ul", { class: "meta" }, x.options.map((o) => el("li", { text: o }))) : null,
        x.reasons && x.reasons.length ? el("div", { class: "meta", text: x.reasons.map(reason).join(" ; ") }) : null,
      ),
    ),
  );
}

async function save(confirmed) {
  const q = draft();
  if (!q.text) return say(saveStatus, t("contributor.need_text"), "error");
  if (!key()) return say(saveStatus, t("key.missing"), "error");
  const dup = last && last.questions.find((x) => x.verdict === "duplicate");
  if (dup && !confirmed) {
    confirmText.textContent = t("contributor.confirm", { text: dup.text });
    confirmBox.hidden = false;
    document.getElementById("confirm-no").focus();
    return;
  }
  confirmBox.hidden = true;
  const answer = parseInt(answerIn.value, 10);
  if (q.options && answer >= 1 && answer <= q.options.length) q.answer = answer - 1;
  const tag = tagIn.value.trim() || guessedTag;
  if (tag) q.tag = tag;
  if (last && last.language) q.language = last.language;
  try {
    await api("POST", "/api/questions", q, { key: key() });
    say(saveStatus, t("contributor.saved"), "ok");
    check();
  } catch (err) {
    say(saveStatus, err.message, "error");
  }
}

const typed = debounce(() => { toUrl(); check(); }, 250);
for (const inp of [textIn, codeIn, optionsIn]) inp.addEventListener("input", () => { confirmBox.hidden = true; say(saveStatus, ""); typed(); });
tagIn.addEventListener("input", toUrl);
form.addEventListener("submit", (e) => { e.preventDefault(); save(false); });
document.getElementById("confirm-yes").addEventListener("click", () => save(true));
document.getElementById("confirm-no").addEventListener("click", () => { confirmBox.hidden = true; textIn.focus(); });

function load() {
  const s = readState();
  textIn.value = s.texte || "";
  codeIn.value = s.code || "";
  optionsIn.value = s.options || "";
  tagIn.value = s.tag || "";
  check();
}

facetValues("question")
  .then((f) => tagList.replaceChildren(...Object.keys(f.tag || {}).sort().map((v) => el("option", { value: v }))))
  .catch((err) => say(statusEl, err.message, "error"));
window.addEventListener("popstate", load);
load();
