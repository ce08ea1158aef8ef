// Rendering a live room: messages and events, the people list, panels, and the polite screen-reader announcer.
// It keeps the view steady as messages arrive (it scrolls only when the reader is already at the bottom).
// With this module's own ?v= (see room.js).
const { messageControls, personControls } = await import(`./moderation.js${new URL(import.meta.url).search}`);

// The server renders times as "%H:%M" in the member's time zone (data-tz): the same here, whatever the
// browser's locale or zone, so live and reloaded messages read alike.
export function makeTimeFormat(timeZone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || "UTC" });
  } catch (err) {
    return new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the browser's own, still 24-hour
  }
}

const MAX_SHOWN = 1000;  // messages kept on the page; older ones come back with "Load earlier messages"

// `el`: the page's elements; `state`: {me, lastSeq, roomState}, shared with the entry module; `send`: a frame out.
export function createView(el, state, send, timeFormat) {
  const { log, announcer, stateEl, people, panel, template, earlier } = el;
  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;

  const announce = (text) => {
    const p = document.createElement("p");
    p.textContent = text;
    announcer.append(p);
    while (announcer.childElementCount > 3) announcer.firstElementChild.remove();
  };

  function renderMessage(m) {
    const li = template.content.firstElementChild.cloneNode(true);
    li.id = `m${m.seq}`;
    li.dataset.seq = m.seq;
    if (m.role === "host") li.classList.add("msg-host");
    if (m.pid === state.me.pid) li.classList.add("msg-mine");
    li.querySelector(".msg-author").textContent = m.author;
    const time = li.querySelector(".msg-time");
    time.dateTime = m.at;
    time.textContent = timeFormat.format(new Date(m.at));
    li.querySelector(".msg-body").innerHTML = m.html; // sanitized on the server by text.render_light
    li.querySelector(".msg-actions").append(...messageControls(m, state.me, send));
    return li;
  }

  // Returns whether the message was new (the entry module forgets a pending send it acknowledges).
  function addMessage(m, live) {
    if (m.seq > state.lastSeq) state.lastSeq = m.seq;
    if (document.getElementById(`m${m.seq}`)) return; // already shown: no duplicates
    if (m.deleted) return;
    document.getElementById("room-empty")?.remove();
    const stick = nearBottom();
    log.insertBefore(renderMessage(m), log.querySelector("li.msg-pending")); // own unsent ones stay last
    // A long catch-up keeps the page light: the oldest leave the page, and "Load earlier messages" brings
    // them back from the server.
    if (log.childElementCount > MAX_SHOWN) {
      while (log.childElementCount > MAX_SHOWN) log.firstElementChild.remove();
      showEarlier(true);
    }
    if (stick || m.pid === state.me.pid) log.scrollTop = log.scrollHeight;
    if (live && m.pid !== state.me.pid) {
      const body = document.createElement("div");
      body.innerHTML = m.html;
      announce(`${m.author}: ${body.textContent}`);
    }
  }

  const showEarlier = (more) => { earlier.hidden = !more; };
  const oldestShown = () => Number(log.querySelector("li.msg[data-seq]")?.dataset.seq || 0);

  // The member's own message, kept until the server answers for it: shown as "Sending…", never lost.
  function showPending(clientId, text) {
    if (document.getElementById(`pending-${clientId}`)) return;
    const li = template.content.firstElementChild.cloneNode(true);
    li.id = `pending-${clientId}`;
    li.classList.add("msg-mine", "msg-pending");
    li.querySelector(".msg-author").textContent = "You";
    li.querySelector(".msg-time").textContent = "Sending…";
    li.querySelector(".msg-body").textContent = text;
    document.getElementById("room-empty")?.remove();
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }
  const clearPending = (clientId) => document.getElementById(`pending-${clientId}`)?.remove();

  // An `earlier` page (oldest first) goes above what is shown, keeping the reader's place.
  function prependMessages(items, more) {
    const height = log.scrollHeight;
    const first = log.querySelector("li.msg[data-seq]") || log.querySelector("li.msg-pending");
    const fragment = document.createDocumentFragment();
    for (const m of items) {
      if (m.deleted || document.getElementById(`m${m.seq}`) || (first && m.seq >= Number(first.dataset.seq))) continue;
      fragment.append(renderMessage(m));
    }
    if (fragment.childElementCount) document.getElementById("room-empty")?.remove();
    log.insertBefore(fragment, first);
    log.scrollTop += log.scrollHeight - height;
    showEarlier(more);
  }

  function showState() {
    const room = state.roomState;
    const parts = [room.state === "ended" ? "Ended" : room.state === "open" ? "Open" : "Waiting for the host"];
    if (room.locked) parts.push("read-only");
    if (room.slow_mode_seconds) parts.push(`slow mode ${room.slow_mode_seconds} s`);
    stateEl.textContent = parts.join(" · ");
  }

  function showPanel(kind, build) {
    panel.replaceChildren();
    panel.className = `room-panel room-panel-${kind}`;
    build(panel);
  }

  // Presence: the server sends the whole list once per connection ({people}), then only changes
  // ({joined, left}); both are applied to this map, which is kept sorted by label for display.
  const present = new Map();
  const byLabel = (a, b) => a.label.localeCompare(b.label);

  function renderPeople(list) {
    people.replaceChildren(...list.map((person) => {
      const li = document.createElement("li");
      li.dataset.pid = person.pid;
      li.textContent = person.label;
      if (person.role === "host") {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "host";
        li.append(" ", tag);
      }
      li.append(...personControls(person, state.me, send));
      return li;
    }));
  }

  function applyPresence(frame) {
    if (frame.people) {
      present.clear();
      for (const person of frame.people) present.set(person.pid, person);
    }
    for (const person of frame.joined || []) present.set(person.pid, person);
    for (const pid of frame.left || []) present.delete(pid);
    renderPeople([...present.values()].sort(byLabel));
  }

  function applyEvent(e, live) {
    if (e.seq > state.lastSeq) state.lastSeq = e.seq;
    const room = state.roomState;
    switch (e.kind) {
      case "delete":
        document.getElementById(`m${e.target}`)?.remove();
        break;
      case "restore":
        if (e.message) addMessage(e.message, false);
        break;
      case "mute":
        if (e.pid === state.me.pid && live) {
          showPanel("notice", (p) => { p.textContent = `The host muted you for ${e.minutes} minutes. You can keep reading.`; });
        }
        break;
      case "remove":
        present.delete(e.pid);
        people.querySelector(`[data-pid="${e.pid}"]`)?.remove();
        break;
      case "slow": room.slow_mode_seconds = e.seconds; showState(); break;
      case "lock": room.locked = e.locked; showState(); break;
      case "open": room.state = "open"; showState(); if (live) announce("The session is open."); break;
      case "end": room.state = "ended"; showState(); announce("The session has ended."); break;
      default: break;
    }
  }

  // A message held back because it may identify a patient: edit it, or send it anyway.
  function showHeld(frame, { onEdit, onSendAnyway }) {
    showPanel("held", (p) => {
      const h = document.createElement("p");
      h.innerHTML = "<strong>Not sent yet.</strong> This may identify a patient:";
      const list = document.createElement("ul");
      for (const f of frame.findings) {
        const li = document.createElement("li");
        li.textContent = `${f.label}: “${f.text}”`;
        list.append(li);
      }
      const preview = document.createElement("blockquote");
      preview.innerHTML = frame.highlighted; // escaped text with <mark> from the server's detector
      const row = document.createElement("div");
      row.className = "actions";
      const edit = document.createElement("button");
      edit.type = "button"; edit.className = "button"; edit.textContent = "Edit";
      edit.addEventListener("click", () => { panel.replaceChildren(); onEdit(); });
      const anyway = document.createElement("button");
      anyway.type = "button"; anyway.className = "button"; anyway.textContent = "Send anyway: these are not identifiers";
      anyway.addEventListener("click", () => { panel.replaceChildren(); onSendAnyway(); });
      row.append(edit, anyway);
      p.append(h, list, preview, row);
    });
    panel.focus();
  }

  function showResources(frame) {
    showPanel("crisis", (p) => {
      p.classList.add("crisis-panel");
      const h = document.createElement("p");
      h.innerHTML = "<strong>It sounds like things may be really hard right now.</strong> You do not have to carry this alone.";
      const list = document.createElement("ul");
      for (const r of frame.resources) {
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        if (r.link) {
          const a = document.createElement("a");
          a.href = r.link; a.textContent = r.name; strong.append(a);
        } else strong.textContent = r.name;
        li.append(strong, `: ${r.description}`);
        list.append(li);
      }
      const more = document.createElement("p");
      more.innerHTML = '<a href="/resources">More resources</a>. The moderator on call has been told, and may write ' +
        'to you privately: it appears in your notifications, and you can answer there. Moderators are colleagues, ' +
        'not an emergency service: if you are in danger now, please use the numbers above.';
      p.append(h, list, more);
    });
  }

  return { announce, addMessage, prependMessages, showEarlier, oldestShown, showPending, clearPending, applyEvent,
           applyPresence, showState, showPanel, showHeld, showResources };
}
