// Live room client, the entry point: wires the connection (room/connection.js), the view (room/render.js) and
// the moderator controls (room/moderation.js) to the page, and keeps what the member wrote until it is sent.
// The parts are imported with this module's own ?v= (a hash over it and its room/ folder, see
// platform/web/templates.py), so a cached, immutable copy of an old part is never mixed with a new entry.
const version = new URL(import.meta.url).search;
const [{ createConnection }, { createView, makeTimeFormat }] = await Promise.all([
  import(`./room/connection.js${version}`), import(`./room/render.js${version}`)]);

const root = document.getElementById("room");

if (root) {
  const $ = (id) => document.getElementById(id);
  const log = $("room-log");
  const statusEl = $("room-connection");
  const panel = $("room-panel");
  const form = $("room-form");
  const textarea = $("room-text");
  const counter = $("room-count");
  const timeFormat = makeTimeFormat(root.dataset.tz || undefined);
  const state = {
    me: { pid: Number(root.dataset.pid), can_moderate: root.dataset.canModerate === "1" },
    lastSeq: Number(root.dataset.lastSeq || 0),
    roomState: {},
  };
  const pending = new Map();      // client_id -> {text, socket}, until acknowledged or seen

  const setStatus = (kind, text) => {
    statusEl.dataset.state = kind;
    statusEl.textContent = text;
  };
  const connection = createConnection({
    roomId: root.dataset.roomId,
    lastSeq: () => state.lastSeq,
    onFrame,
    setStatus,
    isEnded: () => state.roomState.state === "ended",
    onFinal: (reason) => {
      form.hidden = true;
      setStatus("closed", reason ? `Live chat closed: ${reason}.` : "Live chat closed.");
    },
  });
  const view = createView({ log, announcer: $("room-announcer"), stateEl: $("room-state"), people: $("room-people"),
                            panel, template: $("room-message-template") }, state, connection.send, timeFormat);
  const showCount = () => { counter.textContent = `${textarea.value.length.toLocaleString()} / 2,000`; };

  function onFrame(frame) {
    switch (frame.type) {
      case "welcome":
        state.me = frame.me;
        state.roomState = frame.room;
        view.showState();
        if (frame.people) view.applyPresence({ people: frame.people }); // older servers sent the list here
        connection.welcomed();
        form.hidden = state.roomState.state === "ended";
        setStatus("live", "Live: connected.");
        break;
      case "history":
        if (frame.reset) {
          log.replaceChildren();
          state.lastSeq = 0;
        }
        for (const item of frame.items) {
          if (item.type === "message") seen(item, false); else view.applyEvent(item, false);
        }
        if (frame.last_seq > state.lastSeq) state.lastSeq = frame.last_seq;
        if (frame.reset) log.scrollTop = log.scrollHeight;
        if (!frame.reset && frame.items.length) view.announce(`${frame.items.length} update(s) while you were reconnecting.`);
        recoverUnsent();
        break;
      case "gap":
        view.announce("You were away for a while: showing the most recent messages.");
        break;
      case "message": seen(frame, true); break;
      case "event": view.applyEvent(frame, true); break;
      case "presence": view.applyPresence(frame); break;
      case "ack": pending.delete(frame.client_id); break;
      case "held": held(frame); break;
      case "resources": view.showResources(frame); break;
      case "error":
        if (frame.client_id && pending.has(frame.client_id)) {
          if (!textarea.value) textarea.value = pending.get(frame.client_id).text;
          pending.delete(frame.client_id);
        }
        view.showPanel("error", (p) => { p.textContent = frame.message; });
        break;
      default: break;
    }
  }

  function seen(message, live) {
    if (message.client_id) pending.delete(message.client_id); // ours, committed
    view.addMessage(message, live);
  }

  function held(frame) {
    const text = pending.get(frame.client_id)?.text || "";
    pending.delete(frame.client_id);
    view.showHeld(frame, {
      onEdit: () => { textarea.value = text; textarea.focus(); },
      onSendAnyway: () => submit(text, true),
    });
  }

  // Messages written into a socket that then died, and not in the history of the new one: never committed.
  // They go back into the box (nothing is re-sent on its own: the member decides).
  function recoverUnsent() {
    const lost = [...pending].filter(([, p]) => p.socket !== connection.socket());
    if (!lost.length) return;
    for (const [clientId] of lost) pending.delete(clientId);
    const texts = lost.map(([, p]) => p.text);
    if (textarea.value.trim()) texts.push(textarea.value);
    textarea.value = texts.join("\n\n");
    showCount();
    view.showPanel("error", (p) => { p.textContent = "The connection dropped before your message was sent; it is back in the box."; });
  }

  function submit(text, confirm = false) {
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    pending.set(clientId, { text, socket: connection.socket() });
    if (!connection.send({ type: "send", client_id: clientId, text, confirm })) {
      pending.delete(clientId);
      textarea.value = text;
      view.showPanel("error", (p) => { p.textContent = "Not connected right now; your message is kept. It can be sent once the connection is back."; });
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
      view.showPanel("error", (p) => { p.textContent = "Messages can be at most 2,000 characters."; });
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
  textarea.addEventListener("input", showCount);
  for (const t of log.querySelectorAll("time.msg-time")) t.textContent = timeFormat.format(new Date(t.dateTime));
  log.scrollTop = log.scrollHeight;
  form.hidden = false;
  connection.connect();
}
