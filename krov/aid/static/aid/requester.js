// The requester's page of a sealed case: the conversation arrives sealed and opens here,
// with the key this page's secret link derives (HKDF; the link itself never leaves the
// browser again). Loaded only on that page. Nothing here logs.
const holder = document.getElementById("requester-keys");

async function caseKey(crypto) {
  const token = window.location.pathname.split("/").filter(Boolean).at(-1);
  const caseId = holder.dataset.case;
  const key = await crypto.requesterKey(token, caseId);
  return await crypto.importReaderKey(await crypto.unwrapSymmetric(holder.dataset.wrap, key, caseId));
}

async function openAll(crypto, key) {
  for (const span of document.querySelectorAll("[data-sealed]:not([data-opened])")) {
    const info = `krov/v1/content/${holder.dataset.case}/${span.dataset.field}`;
    try {
      span.textContent = await crypto.open(span.dataset.sealed, key, info);
      span.dataset.opened = "1";
      span.classList.add("opened");
    } catch (_error) {
      span.textContent = holder.dataset.msgFailed;
    }
  }
}

async function main() {
  const crypto = await import(holder.dataset.crypto);
  let key;
  try {
    key = await caseKey(crypto);
  } catch (_error) {
    for (const span of document.querySelectorAll("[data-sealed]")) {
      span.textContent = holder.dataset.msgFailed;
    }
    return;
  }
  await openAll(crypto, key);
  document.body.addEventListener("htmx:afterSwap", () => openAll(crypto, key));
  holder.dataset.ready = "1";
}

if (holder) main();
