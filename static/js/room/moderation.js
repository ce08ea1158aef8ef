// Moderator controls in a live room: delete a message, mute or remove a participant (sent as `moderate` frames).

export function modButton(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "link-button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

// The controls after a message: everyone may flag it; moderators and the host may delete it.
export function messageControls(m, me, send) {
  const flag = document.createElement("a");
  flag.href = `/flag/room_message/${m.id}`;
  flag.textContent = "Flag";
  if (!me.can_moderate) return [flag];
  return [flag, " ", modButton("Delete", () => send({ type: "moderate", action: "delete", seq: m.seq }))];
}

// The controls after a person in the people list (never after oneself).
export function personControls(person, me, send) {
  if (!me.can_moderate || person.pid === me.pid) return [];
  return [" ",
    modButton("Mute 10 min", () => send({ type: "moderate", action: "mute", pid: person.pid, minutes: 10 })),
    " ",
    modButton("Remove", () => {
      if (window.confirm(`Remove ${person.label} from this session? They cannot rejoin it.`)) {
        send({ type: "moderate", action: "remove", pid: person.pid });
      }
    })];
}
