// Live room client: connects, resumes from the last seq it saw after any drop (backoff with jitter),
// announces new messages politely to screen readers, and keeps the view steady as messages arrive.
// The browser's `offline` event shows "offline" at once (a dead network often leaves the socket looking open
// for minutes); `online` drops that possibly stale socket and reconnects at once, resuming after `lastSeq`.
const root = document.getElementById("room");

if (root) {
  const roomId = root.dataset.roomId;
  const tz = root.dataset.tz || undefined;
  const log = document.getElementById("room-log");
  const announcer = document.getElementById("room-announcer");
  const statusEl = document.getElementById("room-connection");
  const stateEl = document.getElementById("room-state");
  const people = document.getElementById("room-people");
  const panel = document.getElementById("room-panel");
  const form = document.getElementById("room-form");
  const textarea = document.getElementById("room-text");
  const counter = document.getElementById("room-count");
  const template = document.getElementById("room-message-template");
  // The server renders times as "%H:%M" in the member's time zone (data-tz): the same here, whatever the
  // browser's locale or zone, so live and reloaded messages read alike.
  const timeFormat = makeTimeFormat(tz);

  let lastSeq = Number(root.dataset.lastSeq || 0);
  let me = { pid: Number(root.dataset.pid), can_moderate: root.dataset.canModerate === "1" };
  let ws = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let final = false;              // removed, ended, or refused: do not reconnect
  let offline = navigator.onLine === false;  // the browser says the network is gone
  const pending = new Map();      // client_id -> {text, socket}, until acknowledged or seen

  const setStatus = (state, text) => {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  };

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;

  const announce = (text) => {
    const p = document.createElement("p");
    p.textContent = text;
    announcer.append(p);
    while (announcer.childElementCount > 3) announcer.firstElementChild.remove();
  };

  const modButton = (label, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link-button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  };

  const send = (frame) => {
    if (ws && ws.readyState === WebSocket.OPEN && !offline) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  };

  function renderMessage(m) {
    const li = template.content.firstElementChild.cloneNode(true);
    li.id = `m${m.seq}`;
    li.dataset.seq = m.seq;
    if (m.role === "host") li.classList.add("msg-host");
    if (m.pid === me.pid) li.classList.add("msg-mine");
    li.querySelector(".msg-author").textContent = m.author;
    const time = li.querySelector(".msg-time");
    time.dateTime = m.at;
    time.textContent = timeFormat.format(new Date(m.at));
    li.querySelector(".msg-body").innerHTML = m.html; // sanitized on the server by text.render_light
    const actions = li.querySelector(".msg-actions");
    const flag = document.createElement("a");
    flag.href = `/flag/room_message/${m.id}`;
    flag.textContent = "Flag";
    actions.append(flag);
    if (me.can_moderate) {
      actions.append(" ", modButton("Delete", () => send({ type: "moderate", action: "delete", seq: m.seq })));
    }
    return li;
  }

  function addMessage(m, live) {
    if (m.seq > lastSeq) lastSeq = m.seq;
    if (m.client_id && pending.has(m.client_id)) pending.delete(m.client_id); // ours, committed
    if (document.getElementById(`m${m.seq}`)) return; // already shown: no duplicates
    if (m.deleted) return;
    document.getElementById("room-empty")?.remove();
    const stick = nearBottom();
    log.append(renderMessage(m));
    while (log.childElementCount > 300) log.firstElementChild.remove();
    if (stick || m.pid === me.pid) log.scrollTop = log.scrollHeight;
    if (live && m.pid !== me.pid) {
      const body = document.createElement("div");
      body.innerHTML = m.html;
      announce(`${m.author}: ${body.textContent}`);
    }
  }

  function showState(room) {
    const parts = [room.state === "ended" ? "Ended" : room.state === "open" ? "Open" : "Waiting for the host"];
    if (room.locked) parts.push("read-only");
    if (room.slow_mode_seconds) parts.push(`slow mode ${room.slow_mode_seconds} s`);
    stateEl.textContent = parts.join(" · ");
  }
  let roomState = {};

  function showPanel(kind, build) {
    panel.replaceChildren();
    panel.className = `room-panel room-panel-${kind}`;
    build(panel);
  }

  function applyEvent(e, live) {
    if (e.seq > lastSeq) lastSeq = e.seq;
    switch (e.kind) {
      case "delete": {
        const node = document.getElementById(`m${e.target}`);
        if (node) node.remove();
        break;
      }
      case "restore":
        if (e.message) addMessage(e.message, false);
        break;
      case "mute":
        if (e.pid === me.pid && live) {
          showPanel("notice", (p) => { p.textContent = `The host muted you for ${e.minutes} minutes. You can keep reading.`; });
        }
        break;
      case "remove":
        present.delete(e.pid);
        people.querySelector(`[data-pid="${e.pid}"]`)?.remove();
        break;
      case "slow": roomState.slow_mode_seconds = e.seconds; showState(roomState); break;
      case "lock": roomState.locked = e.locked; showState(roomState); break;
      case "open": roomState.state = "open"; showState(roomState); if (live) announce("The session is open."); break;
      case "end": roomState.state = "ended"; showState(roomState); announce("The session has ended."); break;
      default: break;
    }
  }

  // Presence: the server sends the whole list once per connection ({people}), then only changes
  // ({joined, left}); both are applied to this map, which is kept sorted by label for display.
  const present = new Map();
  const byLabel = (a, b) => a.label.localeCompare(b.label);

  function applyPresence(frame) {
    if (frame.people) {
      present.clear();
      for (const person of frame.people) present.set(person.pid, person);
    }
    for (const person of frame.joined || []) present.set(person.pid, person);
    for (const pid of frame.left || []) present.delete(pid);
    renderPeople([...present.values()].sort(byLabel));
  }

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
      if (me.can_moderate && person.pid !== me.pid) {
        li.append(" ",
          modButton("Mute 10 min", () => send({ type: "moderate", action: "mute", pid: person.pid, minutes: 10 })),
          " ",
          modButton("Remove", () => {
            if (window.confirm(`Remove ${person.label} from this session? They cannot rejoin it.`)) {
              send({ type: "moderate", action: "remove", pid: person.pid });
            }
          }));
      }
      return li;
    }));
  }

  function held(frame) {
    const text = pending.get(frame.client_id)?.text || "";
    pending.delete(frame.client_id);
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
      edit.addEventListener("click", () => { textarea.value = text; panel.replaceChildren(); textarea.focus(); });
      const anyway = document.createElement("button");
      anyway.type = "button"; anyway.className = "button"; anyway.textContent = "Send anyway: these are not identifiers";
      anyway.addEventListener("click", () => { panel.replaceChildren(); submit(text, true); });
      row.append(edit, anyway);
      p.append(h, list, preview, row);
    });
    panel.focus();
  }

  function resources(frame) {
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
      more.innerHTML = '<a href="/resources">More resources</a>. A moderator will also reach out gently.';
      p.append(h, list, more);
    });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "welcome":
        me = frame.me;
        roomState = frame.room;
        showState(roomState);
        if (frame.people) applyPresence({ people: frame.people }); // older servers sent the list here
        attempt = 0;
        offline = false; // a welcome came through: whatever navigator.onLine says, the network works
        form.hidden = roomState.state === "ended";
        setStatus("live", "Live: connected.");
        break;
      case "history":
        if (frame.reset) {
          log.replaceChildren();
          lastSeq = 0;
        }
        for (const item of frame.items) {
          if (item.type === "message") addMessage(item, false); else applyEvent(item, false);
        }
        if (frame.last_seq > lastSeq) lastSeq = frame.last_seq;
        if (frame.reset) log.scrollTop = log.scrollHeight;
        if (!frame.reset && frame.items.length) announce(`${frame.items.length} update(s) while you were reconnecting.`);
        recoverUnsent();
        break;
      case "gap":
        announce("You were away for a while: showing the most recent messages.");
        break;
      case "message": addMessage(frame, true); break;
      case "event": applyEvent(frame, true); break;
      case "presence": applyPresence(frame); break;
      case "ack": pending.delete(frame.client_id); break;
      case "held": held(frame); break;
      case "resources": resources(frame); break;
      case "error":
        if (frame.client_id && pending.has(frame.client_id)) {
          if (!textarea.value) textarea.value = pending.get(frame.client_id).text;
          pending.delete(frame.client_id);
        }
        showPanel("error", (p) => { p.textContent = frame.message; });
        break;
      default: break;
    }
  }

  // Messages written into a socket that then died, and not in the history of the new one: never committed.
  // They go back into the box (nothing is re-sent on its own: the member decides).
  function recoverUnsent() {
    const lost = [...pending].filter(([, p]) => p.socket !== ws);
    if (!lost.length) return;
    for (const [clientId] of lost) pending.delete(clientId);
    const texts = lost.map(([, p]) => p.text);
    if (textarea.value.trim()) texts.push(textarea.value);
    textarea.value = texts.join("\n\n");
    counter.textContent = `${textarea.value.length.toLocaleString()} / 2,000`;
    showPanel("error", (p) => { p.textContent = "The connection dropped before your message was sent; it is back in the box."; });
  }

  function showOffline() {
    setStatus("offline", "Offline: waiting for the network. Nothing you missed will be lost.");
  }

  function scheduleReconnect() {
    attempt += 1;
    if (offline) {
      // No point hammering a dead network: `online` reconnects at once. A slow retry covers a browser
      // whose online/offline signal is wrong.
      showOffline();
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, 30000 * (0.5 + Math.random()));
      return;
    }
    const delay = Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
    setStatus("reconnecting", `Connection lost. Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  function connect() {
    if (final) return;
    clearTimeout(retryTimer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    if (offline) showOffline(); else setStatus("connecting", "Connecting…");
    const socket = new WebSocket(`${scheme}://${location.host}/rooms/${roomId}/ws?after=${lastSeq}`);
    ws = socket;
    // Every handler first checks that this is still the current socket: a stale one, closed on `online`,
    // reports its close (and may even deliver a late frame) after its replacement has taken over.
    socket.addEventListener("message", (event) => {
      if (socket !== ws) return;
      try { onFrame(JSON.parse(event.data)); } catch (err) { console.error(err); }
    });
    socket.addEventListener("close", (event) => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      ws = null;
      if (event.code === 1008 || (event.code === 1000 && roomState.state === "ended")) {
        final = true;
        form.hidden = true;
        setStatus("closed", event.reason ? `Live chat closed: ${event.reason}.` : "Live chat closed.");
        return;
      }
      scheduleReconnect();
    });
    socket.addEventListener("open", () => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      pingTimer = setInterval(() => send({ type: "ping" }), 25000);
    });
  }

  function submit(text, confirm = false) {
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    pending.set(clientId, { text, socket: ws });
    if (!send({ type: "send", client_id: clientId, text, confirm })) {
      pending.delete(clientId);
      textarea.value = text;
      showPanel("error", (p) => { p.textContent = "Not connected right now; your message is kept. It can be sent once the connection is back."; });
      return;
    }
    textarea.value = "";
    counter.textContent = "0 / 2,000";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    if (text.length > 2000) {
      showPanel("error", (p) => { p.textContent = "Messages can be at most 2,000 characters."; });
      return;
    }
    panel.replaceChildren();
    submit(text);
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  textarea.addEventListener("input", () => {
    counter.textContent = `${textarea.value.length.toLocaleString()} / 2,000`;
  });
  window.addEventListener("offline", () => {
    offline = true;
    if (!final) showOffline();
  });
  window.addEventListener("online", () => {
    offline = false;
    if (final) return;
    // The socket may look open but be dead (a real network loss is only noticed at the next write or TCP
    // timeout): replace it now, resuming after the last seq this page saw.
    const stale = ws;
    ws = null;
    clearInterval(pingTimer);
    if (stale) {
      try { stale.close(1000, "reconnecting after the network came back"); } catch (err) { /* already closing */ }
    }
    attempt = 0;
    connect();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !ws && !final && !offline) connect();
  });
  for (const t of log.querySelectorAll("time.msg-time")) t.textContent = timeFormat.format(new Date(t.dateTime));
  log.scrollTop = log.scrollHeight;
  form.hidden = false;
  connect();
}

function makeTimeFormat(timeZone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || "UTC" });
  } catch (err) {
    return new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the browser's own, still 24-hour
  }
}
