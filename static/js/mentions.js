// The composer's @ autocomplete: typing "@" and two or more letters in a textarea with data-mentions asks
// /members/suggest for members whose handle or name starts so, and lists them under the field. It follows the
// combobox pattern as far as a textarea may (ARIA allows it no combobox role nor aria-expanded): the textarea
// keeps its textbox role with aria-autocomplete="list", aria-controls and aria-activedescendant over a listbox,
// and a polite live region says how many were found. ArrowDown and ArrowUp move, Enter or Tab chooses, Escape
// closes; choosing inserts "@handle " (the handle, so the mention is unambiguous). A click chooses too.

const MIN_CHARS = 2;
const DELAY_MS = 150;
// "@" at the start or after a space or opening punctuation, then the letters typed so far, up to the caret.
const TYPED = /(?:^|[\s(\[{"'])@([\w.\-]{2,30})$/u;

let counter = 0;

function setUp(textarea) {
  counter += 1;
  const list = document.createElement("ul");
  list.id = `mention-list-${counter}`;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Members to mention");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  textarea.insertAdjacentElement("afterend", list);
  list.insertAdjacentElement("afterend", status);
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", list.id);
  const state = { textarea, list, status, items: [], active: -1, timer: 0, asked: "" };
  textarea.addEventListener("input", () => schedule(state));
  textarea.addEventListener("keydown", (event) => onKey(state, event));
  textarea.addEventListener("blur", () => setTimeout(() => close(state), 150));
}

function typed(textarea) {
  const before = textarea.value.slice(0, textarea.selectionStart);
  const match = TYPED.exec(before);
  return match && match[1].length >= MIN_CHARS ? match[1] : null;
}

function schedule(state) {
  clearTimeout(state.timer);
  const query = typed(state.textarea);
  if (!query) {
    close(state);
    return;
  }
  state.timer = setTimeout(() => ask(state, query), DELAY_MS);
}

async function ask(state, query) {
  state.asked = query;
  let found = [];
  try {
    const response = await fetch(`/members/suggest?q=${encodeURIComponent(query)}`,
      { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) found = (await response.json()).members || [];
  } catch (error) {
    found = [];
  }
  if (state.asked !== query || typed(state.textarea) !== query) return; // typing moved on
  show(state, found);
}

function show(state, members) {
  state.items = members;
  state.active = members.length ? 0 : -1;
  state.list.replaceChildren(...members.map((member, index) => {
    const option = document.createElement("li");
    option.id = `${state.list.id}-${index}`;
    option.setAttribute("role", "option");
    option.className = "mention-option";
    const name = document.createElement("span");
    name.textContent = member.name;
    const handle = document.createElement("span");
    handle.className = "handle";
    handle.textContent = ` @${member.handle}`;
    option.append(name, handle);
    option.addEventListener("mousedown", (event) => {
      event.preventDefault(); // keep the focus in the textarea
      choose(state, index);
    });
    return option;
  }));
  const open = members.length > 0;
  state.list.hidden = !open;
  state.status.textContent = open ? `${members.length} member${members.length === 1 ? "" : "s"} found. ` +
    "Use the up and down arrows to choose, Enter to insert." : "";
  mark(state);
}

function mark(state) {
  state.list.querySelectorAll("[role=option]").forEach((option, index) => {
    option.setAttribute("aria-selected", index === state.active ? "true" : "false");
  });
  if (state.active >= 0) {
    state.textarea.setAttribute("aria-activedescendant", `${state.list.id}-${state.active}`);
  } else {
    state.textarea.removeAttribute("aria-activedescendant");
  }
}

function close(state) {
  clearTimeout(state.timer);
  state.items = [];
  state.active = -1;
  state.list.hidden = true;
  state.list.replaceChildren();
  state.textarea.removeAttribute("aria-activedescendant");
}

function onKey(state, event) {
  if (state.list.hidden || !state.items.length) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    state.active = (state.active + step + state.items.length) % state.items.length;
    mark(state);
  } else if (event.key === "Enter" || event.key === "Tab") {
    if (state.active < 0) return;
    event.preventDefault();
    choose(state, state.active);
  } else if (event.key === "Escape") {
    event.preventDefault();
    close(state);
  }
}

function choose(state, index) {
  const member = state.items[index];
  const textarea = state.textarea;
  const caret = textarea.selectionStart;
  const before = textarea.value.slice(0, caret);
  const query = typed(textarea);
  if (!member || query === null) return close(state);
  const start = caret - query.length - 1; // the "@"
  const inserted = `@${member.handle} `;
  textarea.value = before.slice(0, start) + inserted + textarea.value.slice(caret);
  const at = start + inserted.length;
  textarea.setSelectionRange(at, at);
  close(state);
  state.status.textContent = `Inserted @${member.handle}.`;
  textarea.dispatchEvent(new Event("input", { bubbles: true })); // drafts and screening see the change
}

document.querySelectorAll("textarea[data-mentions]").forEach(setUp);
