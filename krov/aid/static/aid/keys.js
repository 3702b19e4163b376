// The desk's side of sealed cases: the "My key" page, opening sealed text on case pages,
// and, in a coordinator's browser, sharing the team key and case keys with those who wait.
// The cryptography is krov/js/sealed.js (HPKE over WebCrypto); this file only moves keys
// between the page, this browser's key store and the server. Nothing here logs.
const glue = document.getElementById("krov-keys");

const UNLOCKED_DB = "krov-unlocked";
const SHARE_EVERY_MS = 20000;

// --- this browser's unlocked key: non-extractable CryptoKeys, until lock, sign-out or panic ---

function unlockedDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(UNLOCKED_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore("keys");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function unlockedDo(mode, action) {
  const db = await unlockedDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction("keys", mode);
      const req = action(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

// The unlocked key is kept on the device only encrypted under a key that lives in this
// session on the server (data-device-key): once the session ends, it opens nothing.
const DEVICE = "device";
let crypto = null;
let memo = null;

async function deviceKey() {
  if (!glue.dataset.deviceKey) throw new Error("no session");
  return await crypto.requesterKey(glue.dataset.deviceKey, DEVICE);
}

const unlocked = {
  async get() {
    if (memo) return memo;
    const stored = await unlockedDo("readonly", (store) => store.get("reader"));
    if (!stored || !stored.wrapped) return null;
    try {
      const raw = await crypto.unwrapSymmetric(stored.wrapped, await deviceKey(), DEVICE);
      memo = await crypto.importReaderKey(raw);
    } catch (_error) {
      await unlocked.clear(); // another session's: useless now
      return null;
    }
    return memo;
  },
  async put(raw) {
    const wrapped = await crypto.wrapSymmetric(raw, await deviceKey(), DEVICE);
    await unlockedDo("readwrite", (store) => store.put({ wrapped }, "reader"));
    memo = await crypto.importReaderKey(raw);
    return memo;
  },
  async clear() {
    memo = null;
    await unlockedDo("readwrite", (store) => store.clear());
  },
};

// --- talking to the server ------------------------------------------------------------------

function csrf() {
  const input = glue.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(String(response.status));
  return await response.json();
}

async function postJson(url, fields) {
  const body = new FormData();
  body.append("csrfmiddlewaretoken", csrf());
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
  const response = await fetch(url, { method: "POST", body, credentials: "same-origin" });
  let data = {};
  try {
    data = await response.json();
  } catch (_error) {
    data = {};
  }
  if (data.reauthenticate) {
    const next = encodeURIComponent(window.location.pathname);
    window.location.assign(`${data.reauthenticate}?next=${next}`);
  }
  if (!response.ok) {
    const error = new Error(data.error || String(response.status));
    error.answer = data;
    throw error;
  }
  return data;
}

// --- context strings, as krov/core/sealing.py names them -----------------------------------

const info = {
  content: (caseId, field) => `krov/v1/content/${caseId}/${field}`,
  caseKey: (caseId) => `krov/v1/case-key/${caseId}`,
  teamKey: (teamPublic) => `krov/v1/team-key/${teamPublic}`,
  outboxCaseKey: (senderPublic, messageId) =>
    `krov/v1/outbox-case-key/${senderPublic}/${messageId}`,
};

// Fingerprints are computed here, from the very key that is shown or sealed to: a server
// that altered the list could not make a wrong key pass the comparison (same as sealing.py).
async function fingerprint(publicB64) {
  const digest = new Uint8Array(
    await globalThis.crypto.subtle.digest("SHA-256", crypto.b64urlDecode(publicB64)),
  );
  const hex = Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
  return hex.match(/.{4}/g).join(" ");
}

// --- the team key, opened with this coordinator's key (raw bytes only while sharing) ----------

async function teamKeyRaw(crypto, reader, mine) {
  if (!mine.team_wrapped) return null;
  const raw = await crypto.openBytes(mine.team_wrapped, reader, info.teamKey(mine.team_public));
  if ((await crypto.publicKeyOf(raw)) !== mine.team_public) {
    crypto.zero(raw);
    throw new Error("The team key does not match its public half: tell the other coordinators.");
  }
  return raw;
}

// --- case pages: open every sealed text the page holds -------------------------------------

const caseKeys = new Map();

// The raw private key of a case, opened from what the server sent (`keys`); the caller
// zeroes it when done.
async function caseRawFor(crypto, reader, keys) {
  let holder = reader;
  if (keys.team_key) {
    const teamRaw = await crypto.openBytes(keys.team_key, reader, info.teamKey(keys.team_public));
    try {
      holder = await crypto.importReaderKey(teamRaw.slice());
    } finally {
      crypto.zero(teamRaw);
    }
  }
  return crypto.openBytes(keys.case_key, holder, info.caseKey(keys.case));
}

async function caseKeyFor(crypto, reader, keys) {
  if (caseKeys.has(keys.case)) return caseKeys.get(keys.case);
  const caseRaw = await caseRawFor(crypto, reader, keys);
  const pair = await crypto.importReaderKey(caseRaw);
  if (keys.case_public && pair.publicB64 !== keys.case_public) {
    // A copy that opens but holds another key than the case's: treated as damaged.
    throw new Error("not this case's key");
  }
  caseKeys.set(keys.case, pair);
  return pair;
}

function sealedNotice(text, withLink) {
  let notice = document.getElementById("sealed-notice");
  if (!notice) {
    notice = document.createElement("p");
    notice.id = "sealed-notice";
    notice.className = "notice";
    notice.setAttribute("role", "status");
    const main = document.querySelector("main") || document.body;
    main.insertBefore(notice, main.querySelector("h1")?.nextSibling ?? main.firstChild);
  }
  notice.textContent = text + " ";
  if (withLink) {
    const link = document.createElement("a");
    link.href = `${glue.dataset.keysPage}?next=${encodeURIComponent(window.location.pathname)}`;
    link.textContent = glue.dataset.msgOpenKeys;
    notice.append(link);
  }
}

// A volunteer's page asks again until a coordinator's browser has shared the case key.
let waiting = false;

function waitForCaseKey(crypto, data) {
  const source = document.getElementById("sealed-case-keys-url");
  if (waiting || !source) return;
  waiting = true;
  const timer = setInterval(async () => {
    try {
      const keys = await getJson(source.dataset.url);
      if (!keys.case_key) return;
      clearInterval(timer);
      waiting = false; // a later key change may make the page wait again
      data.textContent = JSON.stringify({ ...JSON.parse(data.textContent), ...keys });
      document.getElementById("sealed-notice")?.remove();
      await openSealed(crypto);
    } catch (_error) {
      // The next round asks again.
    }
  }, 10000);
}

async function openSealed(crypto) {
  const data = document.getElementById("sealed-keys");
  if (!data) return;
  const spans = document.querySelectorAll("[data-sealed]:not([data-opened])");
  if (spans.length === 0) return;
  const keys = JSON.parse(data.textContent);
  const reader = await unlocked.get();
  if (!reader) {
    sealedNotice(glue.dataset.msgLocked, true);
    return;
  }
  if (!keys.case_key) {
    sealedNotice(keys.offered ? glue.dataset.msgOffered : glue.dataset.msgNoGrant, false);
    if (!keys.offered) waitForCaseKey(crypto, data);
    return;
  }
  let caseKey;
  try {
    caseKey = await caseKeyFor(crypto, reader, keys);
  } catch (_error) {
    sealedNotice(glue.dataset.msgFailed, true);
    const source = document.getElementById("sealed-case-keys-url");
    if (!keys.team_key && source) {
      // A copy made for this volunteer that does not open: have it shared again.
      await postJson(source.dataset.url, {}).catch(() => {});
      data.textContent = JSON.stringify({ ...keys, case_key: "" });
      waitForCaseKey(crypto, data);
    }
    return;
  }
  for (const span of spans) {
    try {
      span.textContent = await crypto.open(
        span.dataset.sealed,
        caseKey,
        info.content(keys.case, span.dataset.field),
      );
      span.dataset.opened = "1";
      span.classList.add("opened");
    } catch (_error) {
      span.textContent = glue.dataset.msgFailed;
      span.classList.add("error");
    }
  }
}

// --- files a requester sent: the opened reference is posted, the file comes back --------

const ATTACHMENT_REF = /^(photo|voice|document|video|video_note|audio|animation):(\S+)$/;
const fetchedFiles = new Map(); // reference -> object URL, kept while the page lives

function showAttachment(holder, kind, url) {
  if (kind === "photo") {
    const img = document.createElement("img");
    img.src = url;
    img.alt = glue.dataset.msgPhotoAlt;
    img.className = "attachment-photo";
    holder.replaceChildren(img);
  } else {
    const link = document.createElement("a");
    link.href = url;
    link.download = kind;
    link.textContent = glue.dataset.msgSaveFile;
    holder.replaceChildren(link);
  }
}

function attachmentButtons() {
  for (const holder of document.querySelectorAll(".attachment[data-url]:not([data-ready])")) {
    if (holder.querySelector("[data-sealed]:not([data-opened])")) continue;
    const ref = holder.textContent.trim();
    const match = ATTACHMENT_REF.exec(ref);
    if (!match) continue;
    holder.dataset.ready = "1";
    const kind = match[1];
    if (fetchedFiles.has(ref)) {
      showAttachment(holder, kind, fetchedFiles.get(ref));
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = kind === "photo" ? glue.dataset.msgShowPhoto : glue.dataset.msgFetchFile;
    holder.replaceChildren(button);
    button.addEventListener("click", async () => {
      button.disabled = true;
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrf());
      body.append("ref", ref);
      try {
        const response = await fetch(holder.dataset.url, {
          method: "POST",
          body,
          credentials: "same-origin",
        });
        if (!response.ok) {
          const data = await response.json().catch(() => ({}));
          throw new Error(data.error || glue.dataset.msgFailed);
        }
        const url = URL.createObjectURL(await response.blob());
        fetchedFiles.set(ref, url);
        showAttachment(holder, kind, url);
      } catch (error) {
        button.disabled = false;
        button.title = error.message;
        let note = holder.querySelector(".error");
        if (!note) {
          note = document.createElement("span");
          note.className = "error";
          note.setAttribute("role", "alert");
          holder.append(" ", note);
        }
        note.textContent = error.message;
      }
    });
  }
}

// --- a coordinator's browser shares keys with those who wait --------------------------------

let sharing = false;

async function shareOnce(crypto) {
  if (sharing || document.hidden) return;
  sharing = true;
  let teamRaw = null;
  try {
    const reader = await unlocked.get();
    if (!reader) return;
    const mine = await getJson(glue.dataset.mine);
    if (mine.public_key !== reader.publicB64) return;
    teamRaw = await teamKeyRaw(crypto, reader, mine);
    if (!teamRaw) return;
    if (mine.rotation_due) {
      // Renewing takes a fresh sign-in, so it is never done in the background: say so.
      sealedNotice(glue.dataset.msgRenewDue, true);
    }
    const pending = (await getJson(glue.dataset.caseGrants)).pending;
    const team = pending.length ? await crypto.importReaderKey(teamRaw.slice()) : null;
    for (const grant of pending) {
      let caseRaw = null;
      try {
        caseRaw = await crypto.openBytes(grant.case_key, team, info.caseKey(grant.case));
        const wrapped = await crypto.sealBytes(caseRaw, grant.reader_public, info.caseKey(grant.case));
        await postJson(glue.dataset.caseGrants, {
          case: grant.case,
          reader_key: grant.reader_key,
          wrapped,
        });
      } catch (_error) {
        // One case that cannot be shared must not stop the others.
      } finally {
        if (caseRaw) crypto.zero(caseRaw);
      }
    }
    await resendWaiting(crypto, reader);
  } catch (_error) {
    // Nothing to show: the next round tries again.
  } finally {
    if (teamRaw) crypto.zero(teamRaw);
    sharing = false;
  }
}

// Answers to Telegram requesters wait for the worker sealed to a key only it holds, in
// memory; when that worker stopped, they wait here. The case's key is handed to the running
// workers, sealed to each for this one answer: the worker opens the stored answer with it,
// so nothing sent from here can change what the requester receives.
async function resendWaiting(crypto, reader) {
  if (!glue.dataset.relays) return;
  const waiting = (await getJson(glue.dataset.relays)).waiting;
  for (const item of waiting) {
    let caseRaw = null;
    try {
      caseRaw = await caseRawFor(crypto, reader, item);
      const caseKey = await crypto.importReaderKey(caseRaw.slice());
      // A key that does not open the answer is not handed on.
      await crypto.open(item.body, caseKey, info.content(item.case, "message"));
      const sealed = [];
      for (const sender of item.senders) {
        sealed.push(
          await crypto.sealBytes(caseRaw, sender, info.outboxCaseKey(sender, item.message)),
        );
      }
      await postJson(glue.dataset.relays, { message: item.message, sender: item.senders, sealed });
    } catch (_error) {
      // One answer that cannot be sent again must not stop the others.
    } finally {
      if (caseRaw) crypto.zero(caseRaw);
    }
  }
}

// --- renewing the team key: a new pair, every case key re-wrapped, the old one destroyed ------

// Cases that arrive while the browser re-wraps come back from the server as "missing": they
// are wrapped too and everything is sent again; each round has only what came meanwhile.
const ROTATION_ROUNDS = 10;

async function rotateTeamKey(crypto, reader, teamRaw) {
  const material = await getJson(glue.dataset.teamRotate);
  const oldTeam = await crypto.importReaderKey(teamRaw.slice());
  const fresh = await crypto.generateReaderKey();
  try {
    const cases = {};
    const holders = {};
    const wrapCases = async (items) => {
      for (const item of items) {
        const caseRaw = await crypto.openBytes(item.case_key, oldTeam, info.caseKey(item.case));
        try {
          cases[item.case] = await crypto.sealBytes(
            caseRaw,
            fresh.publicKey,
            info.caseKey(item.case),
          );
        } finally {
          crypto.zero(caseRaw);
        }
      }
    };
    // The coordinators who hold the old key get the new one at once.
    const wrapHolders = async (items) => {
      for (const holder of items) {
        holders[holder.reader_key] = await crypto.sealBytes(
          fresh.privateKey,
          holder.public_key,
          info.teamKey(fresh.publicKey),
        );
      }
    };
    await wrapCases(material.cases);
    await wrapHolders(material.holders);
    const wrapped = await crypto.sealBytes(
      fresh.privateKey,
      reader.publicB64,
      info.teamKey(fresh.publicKey),
    );
    for (let round = 1; ; round += 1) {
      try {
        await postJson(glue.dataset.teamRotate, {
          public_key: fresh.publicKey,
          wrapped,
          cases: JSON.stringify(cases),
          holders: JSON.stringify(holders),
        });
        break;
      } catch (error) {
        const missing = error.answer && error.answer.missing;
        if (!missing || round >= ROTATION_ROUNDS) throw error;
        await wrapCases(missing.cases || []);
        await wrapHolders(missing.holders || []);
      }
    }
    caseKeys.clear();
    return fresh.publicKey;
  } finally {
    crypto.zero(fresh.privateKey);
  }
}

// --- the "My key" page ----------------------------------------------------------------------

function downloadRecovery(locked) {
  const blob = new Blob([JSON.stringify(locked, null, 1)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "krov-key-" + locked.public.slice(0, 8) + ".json";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// "Open my key" on a case page links here with ?next=<that page>: go back once unlocked.
function returnToCase() {
  const next = new URLSearchParams(window.location.search).get("next") || "";
  if (next.startsWith("/") && !next.startsWith("//")) window.location.assign(next);
}

async function keysPage(crypto, page) {
  const status = document.getElementById("keys-status");
  const say = (text, isError) => {
    status.textContent = text;
    status.className = isError ? "error" : "muted";
  };
  const show = (...names) => {
    for (const section of page.querySelectorAll("[data-when]")) {
      section.hidden = !names.includes(section.dataset.when);
    }
  };

  async function refresh() {
    const serverPublic = page.dataset.readerPublic;
    const reader = await unlocked.get();
    const locked = await crypto.loadLockedKey();
    const sections = [];
    if (reader && serverPublic && reader.publicB64 === serverPublic) {
      sections.push("ready");
      if (page.dataset.teamUrl && !page.dataset.teamPublic) sections.push("team-create");
      else if (page.dataset.teamUrl && !page.dataset.hasTeamGrant) sections.push("team-wait");
      else if (page.dataset.teamUrl) sections.push("team-rotate", "team-share");
    } else if (locked && serverPublic && locked.public === serverPublic) {
      sections.push("unlock");
    } else if (serverPublic) {
      sections.push("import");
    } else {
      sections.push("create");
    }
    show(...sections);
    page.dataset.state = sections[0];
    if (reader && sections[0] === "ready") {
      const own = await fingerprint(reader.publicB64);
      for (const id of ["own-fingerprint", "own-fingerprint-waiting"]) {
        const element = document.getElementById(id);
        if (element) element.textContent = own;
      }
    }
    if (sections.includes("team-share")) await listWaiting();
  }

  // The team key is shared only by a coordinator's click, after comparing fingerprints.
  async function listWaiting() {
    const list = document.getElementById("team-waiting");
    const waiting = (await getJson(glue.dataset.teamGrants)).waiting;
    list.replaceChildren();
    if (waiting.length === 0) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = list.dataset.none;
      list.append(none);
    }
    for (const other of waiting) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.className = "fingerprint";
      code.textContent = await fingerprint(other.public_key);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.action = "team-share";
      button.dataset.readerKey = other.reader_key;
      button.dataset.publicKey = other.public_key;
      button.textContent = list.dataset.shareLabel;
      item.append(other.pseudonym + " · ", code, " ", button);
      list.append(item);
    }
  }

  function translatedError(error) {
    if (error instanceof crypto.SealedError) {
      return /passphrase/i.test(error.message)
        ? page.dataset.msgWrongPass
        : page.dataset.msgNotAFile;
    }
    if (error instanceof SyntaxError) return page.dataset.msgNotAFile; // not JSON
    return error.message;
  }

  async function act(work) {
    say(page.dataset.msgWorking, false);
    try {
      const text = await work();
      say(text || "", false);
    } catch (error) {
      // Messages of our own are translated; the crypto library's are not: say it in the
      // page's language.
      say(translatedError(error), true);
    }
    await refresh();
  }

  async function makeKey(passphrase) {
    const made = await crypto.generateReaderKey();
    const locked = await crypto.lockKey(made.privateKey, made.publicKey, passphrase, "Krov");
    await postJson(page.dataset.readerUrl, { public_key: made.publicKey });
    await crypto.saveLockedKey(locked);
    await unlocked.put(made.privateKey);
    page.dataset.readerPublic = made.publicKey;
    downloadRecovery(locked);
    return page.dataset.msgMade;
  }

  page.addEventListener("submit", (event) => {
    const form = event.target;
    event.preventDefault();
    const action = form.dataset.action;
    if (action === "create") {
      const pass = form.querySelector("#create-pass").value;
      const again = form.querySelector("#create-pass2").value;
      if (pass !== again) return say(page.dataset.msgMismatch, true);
      if (pass.length < 12) return say(page.dataset.msgShort, true);
      act(() => makeKey(pass)).then(() => form.reset());
    } else if (action === "import") {
      const file = form.querySelector("#import-file").files[0];
      const pass = form.querySelector("#import-pass").value;
      act(async () => {
        const text = await file.text();
        const raw = await crypto.unlockKey(text, pass);
        if ((await crypto.publicKeyOf(raw)) !== page.dataset.readerPublic) {
          crypto.zero(raw);
          throw new Error(page.dataset.msgWrongFile);
        }
        await crypto.saveLockedKey(JSON.parse(text));
        await unlocked.put(raw);
        return page.dataset.msgUnlocked;
      }).then(() => form.reset());
    } else if (action === "unlock") {
      const pass = form.querySelector("#unlock-pass").value;
      act(async () => {
        const raw = await crypto.unlockKey(await crypto.loadLockedKey(), pass);
        await unlocked.put(raw);
        returnToCase();
        return page.dataset.msgUnlocked;
      }).then(() => form.reset());
    }
  });

  page.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "lock") {
      act(async () => {
        await unlocked.clear();
        return "";
      });
    } else if (action === "team-share") {
      act(async () => {
        const reader = await unlocked.get();
        const mine = await getJson(glue.dataset.mine);
        const teamRaw = await teamKeyRaw(crypto, reader, mine);
        try {
          const wrapped = await crypto.sealBytes(
            teamRaw,
            button.dataset.publicKey,
            info.teamKey(mine.team_public),
          );
          await postJson(glue.dataset.teamGrants, { reader_key: button.dataset.readerKey, wrapped });
        } finally {
          crypto.zero(teamRaw);
        }
        return page.dataset.msgTeamShared;
      });
    } else if (action === "team-rotate") {
      act(async () => {
        const reader = await unlocked.get();
        const mine = await getJson(glue.dataset.mine);
        const teamRaw = await teamKeyRaw(crypto, reader, mine);
        try {
          page.dataset.teamPublic = await rotateTeamKey(crypto, reader, teamRaw);
        } finally {
          crypto.zero(teamRaw);
        }
        return page.dataset.msgTeamRenewed;
      });
    } else if (action === "replace") {
      show("create");
    } else if (action === "team-create") {
      act(async () => {
        const reader = await unlocked.get();
        const team = await crypto.generateReaderKey();
        try {
          const wrapped = await crypto.sealBytes(
            team.privateKey,
            reader.publicB64,
            info.teamKey(team.publicKey),
          );
          await postJson(page.dataset.teamUrl, { public_key: team.publicKey, wrapped });
        } finally {
          crypto.zero(team.privateKey);
        }
        page.dataset.teamPublic = team.publicKey;
        page.dataset.hasTeamGrant = "1";
        return page.dataset.msgTeamMade;
      });
    }
  });

  await refresh();
  page.dataset.ready = "1";
}

// --- sign-out and panic forget the unlocked key ----------------------------------------------

document.addEventListener("submit", (event) => {
  const action = event.target.getAttribute("action") || "";
  if (/logout|panic/.test(action)) {
    unlocked.clear().catch(() => {});
  }
});

async function main() {
  crypto = await import(glue.dataset.crypto);
  const page = document.getElementById("keys-page");
  if (page) await keysPage(crypto, page);
  await openSealed(crypto);
  attachmentButtons();
  document.body.addEventListener("htmx:afterSwap", async () => {
    await openSealed(crypto);
    attachmentButtons();
  });
  if (glue.dataset.teamGrants) {
    shareOnce(crypto);
    setInterval(() => shareOnce(crypto), SHARE_EVERY_MS);
  }
  glue.dataset.ready = "1";
}

if (glue) main();
