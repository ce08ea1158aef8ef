// Keeps what a member is writing in any composer (form[data-draft-slot]) as a server-side draft: saved a moment
// after typing stops (and at least every few seconds while it goes on), and when the page is hidden or closed
// (fetch keepalive: sendBeacon cannot carry the CSRF header). On load, a stored draft comes back into the box.
// A submitted form stops saving: the server deletes the draft when it publishes, and keeps it when it refuses.
// A live form (data-draft-live: the room) never navigates: clearing its box (a sent message) deletes the draft.
const QUIET_MS = 1500;
const AT_LEAST_EVERY_MS = 5000;

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function statusFor(form) {
  let status = form.querySelector("[data-draft-status]");
  if (!status) {
    status = document.createElement("p");
    status.className = "hint draft-status";
    status.setAttribute("data-draft-status", "");
    status.setAttribute("role", "status");
    form.append(status);
  }
  return status;
}

function setUp(form) {
  const slot = form.dataset.draftSlot;
  const body = form.querySelector("[data-draft-body]") || form.elements.namedItem("body");
  const title = form.elements.namedItem("title");
  if (!slot || !body) return;
  const live = form.hasAttribute("data-draft-live");
  const status = statusFor(form);
  const say = (text) => { status.textContent = text; };
  const values = () => ({ slot, body: body.value, title: title ? title.value : "" });

  let lastSent = JSON.stringify(values());
  const loaded = lastSent; // what the page came with: a stored draft only replaces that, never the member's typing
  let submitted = false;
  let quiet = null;
  let firstUnsaved = 0;
  let chain = Promise.resolve();

  const send = (keepalive) => {
    if (submitted) return chain;
    const text = JSON.stringify(values());
    if (text === lastSent) return chain;
    lastSent = text;
    firstUnsaved = 0;
    // One request at a time, in order: a cleared box must never be overtaken by the text it replaced.
    chain = chain.then(async () => {
      try {
        const response = await fetch("/drafts/save", {
          method: "POST", credentials: "same-origin", keepalive,
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() }, body: text,
        });
        const answer = await response.json().catch(() => ({}));
        if (response.ok) say(JSON.parse(text).body.trim() ? `Draft saved ${clock(answer.saved_at)}.` : "");
        else { lastSent = ""; say(`${answer.error || "The draft could not be saved."} Your text is still in the box.`); }
      } catch {
        lastSent = "";
        say("Offline: the draft will be saved when the connection is back. Your text is still in the box.");
      }
    });
    return chain;
  };

  const changed = () => {
    clearTimeout(quiet);
    const now = Date.now();
    if (!firstUnsaved) firstUnsaved = now;
    if (now - firstUnsaved >= AT_LEAST_EVERY_MS) send(false);
    else quiet = setTimeout(() => send(false), QUIET_MS);
  };

  const restore = async () => {
    const response = await fetch(`/drafts/one?slot=${encodeURIComponent(slot)}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const { draft } = await response.json();
    // Typed into since the page loaded (before this answer came): the member's text stays, and is saved as the draft.
    if (JSON.stringify(values()) !== loaded) return;
    if (!draft || (draft.body === body.value && (!title || draft.title === title.value))) return;
    if (!draft.body.trim() && !draft.title) return;
    const before = { body: body.value, title: title ? title.value : "" };
    body.value = draft.body;
    if (title && draft.title) title.value = draft.title;
    lastSent = JSON.stringify(values());
    body.dispatchEvent(new Event("draft-restored", { bubbles: true }));
    say(`Your unsent draft from ${clock(draft.saved_at)} is back in the box. `);
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link-button";
    undo.textContent = "Discard the draft";
    undo.addEventListener("click", () => {
      body.value = before.body;
      if (title) title.value = before.title;
      // Nothing at all deletes the draft; the page's own text (a post being edited) is no draft of it.
      lastSent = JSON.stringify({ slot, body: "", title: "" });
      chain = chain.then(() => fetch("/drafts/save", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() }, body: lastSent,
      })).then(() => say("The draft is discarded."), () => say("Offline: the draft could not be discarded."));
      lastSent = JSON.stringify(values());
      body.focus();
    });
    status.append(undo);
  };

  form.addEventListener("input", changed);
  if (!live) {
    form.addEventListener("submit", () => {
      clearTimeout(quiet);
      submitted = true;
    });
  }
  const flush = () => { clearTimeout(quiet); send(true); };
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  window.addEventListener("online", () => send(false));
  restore().catch(() => { /* offline: whatever the page holds stays */ });
}

for (const form of document.querySelectorAll("form[data-draft-slot]")) setUp(form);
