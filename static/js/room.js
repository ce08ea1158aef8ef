// Live room client, the entry point: wires the connection (room/connection.js), the view (room/render.js) and
// the moderator controls (room/moderation.js) to the page, and keeps what the member wrote until the server
// has answered for it.
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
  const earlier = $("room-earlier");
  const timeFormat = makeTimeFormat(root.dataset.tz || undefined);
  const state = {
    me: { pid: Number(root.dataset.pid), can_moderate: root.dataset.canModerate === "1" },
    lastSeq: Number(root.dataset.lastSeq || 0),
    roomState: {},
  };
  // Exactly once: every message keeps its client_id until the server answers for it (ack, held, or a refusal).
  // A message whose socket died is sent again, with the same id, on the next connection once its catch-up is
  // complete; the server stores a client_id once and acks a resend with the original seq. Nothing is given
  // back to retype unless the server says it was not sent. Kept in sessionStorage, so a reload resends too.
  const storeKey = `room-unsent:${root.dataset.roomId}:${root.dataset.pid}`;
  const pending = new Map();      // client_id -> {text, confirm, socket}, in the order written
  for (const [id, p] of JSON.parse(sessionStorage.getItem(storeKey) || "[]")) pending.set(id, { ...p, socket: null });
  const save = () => sessionStorage.setItem(storeKey, JSON.stringify(
    [...pending].map(([id, p]) => [id, { text: p.text, confirm: p.confirm }])));
  const forget = (clientId) => {
    view.clearPending(clientId);
    if (pending.delete(clientId)) save();
  };
  let caughtUp = false;           // this connection's history (or catch-up) has all arrived

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
      giveBack("The live chat closed before these messages could be sent; they are back in the box.");
    },
  });
  const view = createView({ log, announcer: $("room-announcer"), stateEl: $("room-state"), people: $("room-people"),
                            panel, template: $("room-message-template"), earlier },
                          state, connection.send, timeFormat);
  for (const [clientId, p] of pending) view.showPending(clientId, p.text);
  const showCount = () => { counter.textContent = `${textarea.value.length.toLocaleString()} / 2,000`; };

  function onFrame(frame) {
    switch (frame.type) {
      case "welcome":
        state.me = frame.me;
        state.roomState = frame.room;
        caughtUp = false;
        view.showState();
        connection.welcomed();
        form.hidden = state.roomState.state === "ended";
        setStatus("live", "Live: connected.");
        break;
      case "history": history(frame); break;
      case "expired":
        view.showPanel("notice", (p) => { p.textContent = frame.message; });
        break;
      case "earlier": view.prependMessages(frame.items, frame.more); break;
      case "message": seen(frame, true); break;
      case "event": view.applyEvent(frame, true); break;
      case "presence": view.applyPresence(frame); break;
      case "ack": forget(frame.client_id); break;
      case "held": held(frame); break;
      case "resources": view.showResources(frame); break;
      case "error": error(frame); break;
      default: break;
    }
  }

  function history(frame) {
    if (frame.reset) {
      log.replaceChildren();
      for (const [clientId, p] of pending) view.showPending(clientId, p.text);
      state.lastSeq = 0;
      view.showEarlier(frame.earlier);
    }
    for (const item of frame.items) {
      if (item.type === "message") seen(item, false); else view.applyEvent(item, false);
    }
    if (frame.last_seq > state.lastSeq) state.lastSeq = frame.last_seq;
    if (frame.reset) log.scrollTop = log.scrollHeight;
    if (frame.more) return;  // more of the catch-up follows
    caughtUp = true;
    if (!frame.reset) view.announce("Caught up with everything while you were away.");
    resend();
  }

  function seen(message, live) {
    if (message.client_id && message.pid === state.me.pid) forget(message.client_id); // ours, committed
    view.addMessage(message, live);
  }

  // What this connection has not carried yet: sent again with the same ids, in the order written.
  function resend() {
    const socket = connection.socket();
    for (const [clientId, p] of pending) {
      if (p.socket === socket) continue;
      if (!connection.send({ type: "send", client_id: clientId, text: p.text, confirm: p.confirm })) return;
      p.socket = socket;
    }
  }

  function error(frame) {
    const mine = frame.client_id && pending.has(frame.client_id);
    if (mine && frame.code === "unavailable") {
      // Nothing was stored: the message stays queued and goes again after the reconnect.
      view.showPanel("notice", (p) => { p.textContent = "Not sent yet: the room is reconnecting. Your message is kept and will be sent."; });
      return;
    }
    if (mine) {
      // The server refused this message: only now is it "not sent".
      if (!textarea.value) { textarea.value = pending.get(frame.client_id).text; showCount(); }
      forget(frame.client_id);
    }
    view.showPanel("error", (p) => { p.textContent = frame.message; });
  }

  function held(frame) {
    const text = pending.get(frame.client_id)?.text || "";
    forget(frame.client_id);
    view.showHeld(frame, {
      onEdit: () => { textarea.value = text; textarea.focus(); },
      onSendAnyway: () => submit(text, true),
    });
  }

  // Only when the chat is closed for good: what could not be sent goes back into the box.
  function giveBack(message) {
    if (!pending.size) return;
    const texts = [...pending.values()].map((p) => p.text);
    for (const clientId of pending.keys()) view.clearPending(clientId);
    pending.clear();
    save();
    if (textarea.value.trim()) texts.push(textarea.value);
    textarea.value = texts.join("\n\n");
    showCount();
    view.showPanel("error", (p) => { p.textContent = message; });
  }

  function submit(text, confirm = false) {
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random()}`;
    const entry = { text, confirm, socket: null };
    pending.set(clientId, entry);
    save();
    view.showPending(clientId, text);
    textarea.value = "";
    counter.textContent = "0 / 2,000";
    // drafts.js: the emptied box deletes the message's draft (the pending list above now keeps the text).
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    if (caughtUp && connection.send({ type: "send", client_id: clientId, text, confirm })) {
      entry.socket = connection.socket();
      return;
    }
    if (!caughtUp && connection.socket()) return;  // connected, catching up: it goes once that is done
    view.showPanel("notice", (p) => { p.textContent = "Not connected right now: your message is kept and will be sent when the connection is back."; });
  }

  earlier.addEventListener("click", () => {
    const before = view.oldestShown();
    if (before > 1) connection.send({ type: "earlier", before });
  });
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
