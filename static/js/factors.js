// Passkeys and security keys (WebAuthn): asks the browser to create or use one, and hands its answer to the
// page's own form, which the server checks (platform/accounts/factors.py). Without JavaScript, codes still work.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function toBytes(value) {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(value.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function toText(buffer) {
  if (!buffer) return null;
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function options(url) {
  const response = await fetch(url, { method: "POST", credentials: "same-origin",
                                      headers: { "X-CSRF-Token": csrf(), Accept: "application/json" } });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || "The server could not start this. Please reload the page.");
  return data;
}

function showError(message) {
  const box = document.querySelector("[data-passkey-error]");
  if (box) {
    box.textContent = message;
    box.hidden = false;
  }
}

function failure(error) {
  if (error && error.name === "NotAllowedError") return "The browser's request was cancelled or timed out. Please try again.";
  return (error && error.message) || "This did not work. Please try again, or use a code.";
}

async function register(button) {
  const data = await options(button.dataset.options);
  const publicKey = { ...data, challenge: toBytes(data.challenge), user: { ...data.user, id: toBytes(data.user.id) },
                      excludeCredentials: (data.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })) };
  const credential = await navigator.credentials.create({ publicKey });
  const answer = {
    id: credential.id, rawId: toText(credential.rawId), type: credential.type,
    response: { clientDataJSON: toText(credential.response.clientDataJSON),
                attestationObject: toText(credential.response.attestationObject),
                transports: credential.response.getTransports ? credential.response.getTransports() : [] },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  const form = document.getElementById(button.dataset.form);
  form.querySelector("[data-passkey-credential]").value = JSON.stringify(answer);
  form.submit();
}

async function signIn(button) {
  const data = await options(button.dataset.options);
  const publicKey = { ...data, challenge: toBytes(data.challenge),
                      allowCredentials: (data.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })) };
  const credential = await navigator.credentials.get({ publicKey });
  const answer = {
    id: credential.id, rawId: toText(credential.rawId), type: credential.type,
    response: { clientDataJSON: toText(credential.response.clientDataJSON),
                authenticatorData: toText(credential.response.authenticatorData),
                signature: toText(credential.response.signature),
                userHandle: toText(credential.response.userHandle) },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  const form = document.getElementById(button.dataset.form);
  form.querySelector("[data-passkey-answer]").value = JSON.stringify(answer);
  form.submit();
}

for (const [selector, action] of [["[data-passkey-register]", register], ["[data-passkey-signin]", signIn]]) {
  for (const button of document.querySelectorAll(selector)) {
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      showError("This browser does not offer passkeys here. Use a code instead.");
      continue;
    }
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await action(button);
      } catch (error) {
        showError(failure(error));
        button.disabled = false;
      }
    });
  }
}
