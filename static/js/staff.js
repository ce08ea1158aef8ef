// Moderators' pages: keep the navigation's urgent and unread counts current, announce a new urgent item wherever the
// moderator is, and on the review queue replace the list when the queue changes, without a reload.
// A small poll with an ETag (GET /review/pulse, 304 when nothing changed): see community/platform/review/pulse.py
// for why a poll and not a socket. It pauses while the tab is hidden and asks at once when it is shown again.

const POLL_MS = 10000;
let etag = null;
let lastUrgent = null;

function badge() {
  return document.querySelector("[data-urgent-count]");
}

function showCount(urgent) {
  const el = badge();
  if (!el) return;
  el.textContent = String(urgent);
  el.setAttribute("aria-label", `${urgent} urgent`);
  el.hidden = urgent === 0;
}

function showUnread(unread) {
  const el = document.querySelector("[data-unread-count]");
  if (!el || typeof unread !== "number") return;
  el.textContent = String(unread);
  el.setAttribute("aria-label", `${unread} unread`);
  el.hidden = unread === 0;
}

function announce(urgent) {
  let box = document.getElementById("urgent-alert");
  if (!box) {
    box = document.createElement("div");
    box.id = "urgent-alert";
    box.className = "alert alert-error urgent-alert";
    box.setAttribute("role", "alert");
    // At the top of the page's content (base.html's #main): on a wide screen it floats in a corner, on a phone it
    // takes its place in the page (app.css) rather than covering the buttons under a fixed box.
    document.getElementById("main").prepend(box);
  }
  box.replaceChildren();
  const p = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = "A new urgent item is waiting. ";
  const link = document.createElement("a");
  link.href = "/review?show=urgent";
  link.textContent = `Open the urgent queue (${urgent})`;
  p.append(strong, link);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "button small";
  close.textContent = "Dismiss";
  close.addEventListener("click", () => box.remove());
  box.append(p, close);
}

async function refreshQueue() {
  const list = document.getElementById("queue-list");
  if (!list) return;
  const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("queue-list");
  if (fresh) list.replaceChildren(...fresh.childNodes);
  const summary = document.getElementById("queue-summary");
  const freshSummary = page.getElementById("queue-summary");
  if (summary && freshSummary) summary.textContent = freshSummary.textContent;
}

async function poll() {
  if (document.hidden) return;
  const headers = etag ? { "If-None-Match": etag } : {};
  let response;
  try {
    response = await fetch("/review/pulse", { credentials: "same-origin", headers });
  } catch {
    return; // offline or restarting: the next round asks again
  }
  if (response.status !== 200) return;
  const state = await response.json();
  const changed = etag !== null && state.etag !== etag;
  etag = state.etag;
  showCount(state.urgent);
  showUnread(state.unread);
  if (lastUrgent !== null && state.urgent > lastUrgent) announce(state.urgent);
  lastUrgent = state.urgent;
  if (changed) await refreshQueue();
}

const initial = badge();
if (initial) lastUrgent = Number(initial.textContent) || 0;
const queueList = document.getElementById("queue-list");
if (queueList && queueList.dataset.etag) etag = queueList.dataset.etag;
document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
poll();
setInterval(poll, POLL_MS);
