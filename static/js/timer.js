// The prompt's optional timer (2, 5 or 15 minutes): started only by the writer, shown quietly, and when it ends
// it says so and nothing else happens. No sound, no pressure, nothing submitted or counted.
for (const box of document.querySelectorAll("[data-gentle-timer]")) {
  const minutes = Number(box.dataset.minutes) || 5;
  const start = box.querySelector("[data-timer-start]");
  const stop = box.querySelector("[data-timer-stop]");
  const face = box.querySelector("[data-timer-face]");
  const note = box.querySelector("[data-timer-note]");
  let ticking = null;
  let endsAt = 0;

  const show = () => {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    face.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left`;
    if (left === 0) finish("Your " + minutes + " minutes are up. Keep writing if you like; there is no limit.");
  };
  const finish = (message) => {
    clearInterval(ticking);
    ticking = null;
    face.hidden = true;
    stop.hidden = true;
    start.hidden = false;
    start.textContent = `Start a gentle ${minutes}-minute timer again`;
    note.textContent = message;
  };
  start.addEventListener("click", () => {
    endsAt = Date.now() + minutes * 60 * 1000;
    start.hidden = true;
    face.hidden = false;
    stop.hidden = false;
    note.textContent = "The timer is running. Take longer or stop early: nothing is counted.";
    show();
    ticking = setInterval(show, 1000);
  });
  stop.addEventListener("click", () => finish("Timer stopped. Write as long as you like."));
  box.hidden = false;
}
