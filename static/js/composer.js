// Safety while writing: screens the draft as the member types (debounced) and shows, without blocking,
// crisis resources when the words suggest the writer may be at risk, and a privacy warning when the text
// seems to contain patient identifiers. Attach with data-screen on a <textarea> (data-screen="private"
// for private journal entries: resources only, no identifier check). Nothing is stored or reported.
// When the form lets the writer choose who reads it, data-screen-from="<radio group name>" makes data-screen
// follow that choice (a radio's data-screen-as, else "private" for the value "private" and "shared" for any
// other), and the draft is screened again at once: private = resources only, shared = identifiers too.

const DELAY_MS = 700;

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

function panelFor(textarea) {
  const id = textarea.id + "-safety";
  let panel = document.getElementById(id);
  if (!panel) {
    panel = document.createElement("div");
    panel.id = id;
    panel.className = "safety-live";
    panel.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", panel);
  }
  return panel;
}

function resourcesPanel() {
  const template = document.getElementById("crisis-resources-template");
  if (template) return template.content.cloneNode(true);
  const aside = document.createElement("aside");
  aside.className = "crisis-panel";
  aside.innerHTML = '<p><strong>You matter.</strong> If you are thinking about ending your life or hurting ' +
    'yourself, please reach out now: call or text <a href="tel:988">988</a>, or see ' +
    '<a href="/resources">more crisis resources</a>.</p>';
  return aside;
}

function privacyPanel(result) {
  const box = document.createElement("div");
  box.className = "alert alert-warn phi-live";
  const title = document.createElement("p");
  const strong = result.findings.some((finding) => finding.strong);
  title.innerHTML = strong
    ? "<strong>This identifies a person.</strong> A record number, Social Security number, phone number, email or " +
      "full date of birth cannot be published on your word: remove it, or a moderator will approve the piece first:"
    : "<strong>This may identify a patient.</strong> Please check the highlighted parts before you publish:";
  box.appendChild(title);
  const list = document.createElement("ul");
  for (const finding of result.findings) {
    const item = document.createElement("li");
    const mark = document.createElement("mark");
    mark.className = "phi";
    mark.textContent = finding.text;
    item.appendChild(mark);
    item.appendChild(document.createTextNode(" — " + finding.label));
    list.appendChild(item);
  }
  box.appendChild(list);
  return box;
}

const latest = new WeakMap(); // textarea -> number of its newest check: an older answer is dropped

async function screenText(textarea) {
  const text = textarea.value;
  const check = (latest.get(textarea) || 0) + 1;
  latest.set(textarea, check);
  const panel = panelFor(textarea);
  if (text.trim().length < 8) {
    panel.replaceChildren();
    return;
  }
  const body = new URLSearchParams({ text, private: textarea.dataset.screen === "private" ? "1" : "0" });
  let result;
  try {
    const response = await fetch("/safety/check", {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body,
      credentials: "same-origin",
    });
    if (!response.ok) return;
    result = await response.json();
  } catch (error) {
    return; // offline: the server screens again when the post is submitted
  }
  if (latest.get(textarea) !== check) return; // a newer check (new text, or a new visibility) is on its way
  const parts = [];
  if (result.crisis) parts.push(resourcesPanel());
  if (result.findings && result.findings.length) parts.push(privacyPanel(result));
  panel.replaceChildren(...parts);
}

function screenModeOf(radio) {
  return radio.dataset.screenAs || (radio.value === "private" ? "private" : "shared");
}

// Keeps data-screen in step with the radio group named by data-screen-from; calls onChange when it changes.
function followVisibility(textarea, onChange) {
  const group = textarea.dataset.screenFrom;
  const scope = textarea.form || document;
  if (!group) return;
  const radios = [...scope.querySelectorAll(`input[type="radio"][name="${CSS.escape(group)}"]`)];
  const sync = () => {
    const checked = radios.find((radio) => radio.checked);
    if (!checked) return false;
    const mode = screenModeOf(checked);
    if (textarea.dataset.screen === mode) return false;
    textarea.dataset.screen = mode;
    return true;
  };
  for (const radio of radios) radio.addEventListener("change", () => { if (sync()) onChange(); });
  sync(); // the browser may have restored another choice than the one the server rendered (back button)
  window.addEventListener("pageshow", () => { if (sync()) onChange(); });
}

export function attach(textarea) {
  let timer = null;
  const now = () => {
    clearTimeout(timer);
    screenText(textarea);
  };
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => screenText(textarea), DELAY_MS);
  });
  followVisibility(textarea, now);
  if (textarea.value.trim()) screenText(textarea);
}

for (const textarea of document.querySelectorAll("textarea[data-screen]")) attach(textarea);
