// The room's WebSocket: connects, resumes from the last seq it saw after any drop (backoff with jitter), and
// follows the browser's network signals. `offline` shows "offline" at once (a dead network often leaves the
// socket looking open for minutes); `online` drops that possibly stale socket and reconnects at once.

// `roomId`; `lastSeq()`: where to resume; `onFrame(frame)`; `setStatus(state, text)`; `isEnded()`: whether the
// session has ended (a normal close is then final); `onFinal()`: the chat closed for good (removed, ended, refused).
export function createConnection({ roomId, lastSeq, onFrame, setStatus, isEnded, onFinal }) {
  let ws = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let final = false;                          // removed, ended, or refused: do not reconnect
  let offline = navigator.onLine === false;   // the browser says the network is gone

  const send = (frame) => {
    if (ws && ws.readyState === WebSocket.OPEN && !offline) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  };

  const showOffline = () => setStatus("offline", "Offline: waiting for the network. Nothing you missed will be lost.");

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
    const socket = new WebSocket(`${scheme}://${location.host}/rooms/${roomId}/ws?after=${lastSeq()}`);
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
      if (event.code === 1008 || (event.code === 1000 && isEnded())) {
        final = true;
        onFinal(event.reason);
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

  // A welcome came through: whatever navigator.onLine says, the network works.
  function welcomed() {
    attempt = 0;
    offline = false;
  }

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

  return { connect, send, welcomed, socket: () => ws };
}
