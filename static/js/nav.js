// The main navigation on a phone: the links fold behind a "Menu" button (a real <button>, aria-expanded), and
// "Need help now?" stays on the bar. Without this script the links simply wrap, all of them visible.
const header = document.querySelector(".site-header");
const toggle = header && header.querySelector(".nav-toggle");
if (header && toggle) {
  const nav = toggle.closest(".site-nav");
  const set = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  };
  toggle.hidden = false;
  header.classList.add("nav-ready");
  toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      set(false);
      toggle.focus();
    }
  });
  // A tap or a focus outside the open menu closes it.
  document.addEventListener("click", (event) => { if (!nav.contains(event.target)) set(false); });
  document.addEventListener("focusin", (event) => { if (!nav.contains(event.target)) set(false); });
}
