// Autosaves reflection drafts: to the server every few seconds and when the page is hidden (fetch keepalive,
// because sendBeacon cannot send the CSRF header), and to localStorage so a lost connection loses nothing.
const SAVE_EVERY_MS = 5000;
const SUBMITTED = "reflection-draft-submitted";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function storageKey(slot) {
  return `reflection-draft:${slot}`;
}

function readLocal(slot) {
  try {
    return JSON.parse(localStorage.getItem(storageKey(slot)) || "null");
  } catch {
    return null;
  }
}

function writeLocal(slot, value) {
  try {
    localStorage.setItem(storageKey(slot), JSON.stringify(value));
  } catch {
    // Storage full or disabled: the server copy still works.
  }
}

function clearLocal(slot) {
  try {
    localStorage.removeItem(storageKey(slot));
  } catch {
    // ignore
  }
}

// A page reached after a successful submit: the local copy has done its job.
function landed() {
  const slot = sessionStorage.getItem(SUBMITTED);
  if (slot) {
    clearLocal(slot);
    sessionStorage.removeItem(SUBMITTED);
  }
}

function setUp(form) {
  const slot = form.dataset.slot;
  const url = form.dataset.autosaveUrl;
  const status = form.querySelector("[data-draft-status]");
  const fields = ["title", "body", "visibility", "prompt_id", "theme"];
  // The server re-rendered this form (for example after a failed submit): the marker is no longer needed.
  sessionStorage.removeItem(SUBMITTED);

  const values = () => {
    const data = new FormData(form);
    const out = { slot };
    for (const name of fields) out[name] = String(data.get(name) ?? "");
    return out;
  };
  const say = (text) => {
    if (status) status.textContent = text;
  };

  // Restore a newer local copy (written while offline, or before a tab was closed).
  const local = readLocal(slot);
  const body = form.elements.namedItem("body");
  if (local && body && local.body && local.body !== body.value) {
    const notice = document.querySelector("[data-local-restore]");
    const serverText = body.value;
    for (const name of ["title", "body"]) {
      const el = form.elements.namedItem(name);
      if (el && typeof local[name] === "string") el.value = local[name];
    }
    if (notice) {
      notice.hidden = false;
      notice.textContent = "We restored the newer copy of your draft saved in this browser. ";
      if (serverText) {
        const undo = document.createElement("button");
        undo.type = "button";
        undo.className = "link-button";
        undo.textContent = "Use the saved version instead";
        undo.addEventListener("click", () => {
          body.value = serverText;
          notice.hidden = true;
          dirty = true;
        });
        notice.append(undo);
      }
    }
  }

  let dirty = false;
  let lastSent = JSON.stringify(values());

  let submitted = false;
  const save = async (keepalive = false) => {
    // Once the form is submitted the server has the text: a save racing the publish (pagehide fires as the
    // browser leaves for the answer) would bring the published piece back as a draft.
    if (submitted) return;
    const payload = values();
    const text = JSON.stringify(payload);
    writeLocal(slot, { ...payload, savedAt: Date.now() });
    if (text === lastSent) return;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: text,
        credentials: "same-origin",
        keepalive,
      });
      if (response.ok) {
        lastSent = text;
        dirty = false;
        say(`Draft saved ${new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })}.`);
      } else {
        const problem = await response.json().catch(() => ({}));
        say(`${problem.error || "The draft could not be saved to the server."} It is kept in this browser.`);
      }
    } catch {
      say("Offline: your draft is kept in this browser and will be saved when you are back online.");
    }
  };

  form.addEventListener("input", () => {
    dirty = true;
    writeLocal(slot, { ...values(), savedAt: Date.now() });
  });
  setInterval(() => {
    if (dirty) save();
  }, SAVE_EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save(true);
  });
  window.addEventListener("pagehide", () => save(true));
  window.addEventListener("online", () => save());
  form.addEventListener("submit", (event) => {
    submitted = true;
    const intent = event.submitter ? event.submitter.value : "publish";
    if (intent !== "draft") sessionStorage.setItem(SUBMITTED, slot);
  });
}

if (document.querySelector("[data-draft-landing]")) landed();
for (const form of document.querySelectorAll("form[data-autosave-url]")) setUp(form);
