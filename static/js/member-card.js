// Member cards: a name on signed writing opens its small card in place, in a dialog (without JavaScript, the
// link opens the card's page). The card is the server's own page, fetched and parsed; nothing is built from text.
const dialog = document.createElement("dialog");
dialog.className = "member-card-dialog";
dialog.setAttribute("aria-label", "Member card");
const close = document.createElement("button");
close.type = "button";
close.className = "button small";
close.textContent = "Close";
close.addEventListener("click", () => dialog.close());
dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
document.body.append(dialog);

document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.member-card-link");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  try {
    const response = await fetch(link.href, {credentials: "same-origin"});
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const card = response.ok ? page.querySelector(".member-card") : null;
    if (!card) throw new Error("no card");
    dialog.replaceChildren(card, close);
    dialog.showModal();
    close.focus();
  } catch {
    window.location.href = link.href;
  }
});
