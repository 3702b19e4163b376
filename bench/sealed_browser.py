"""Browser-side cost of sealed cases, in headless Debian Chromium.

Opening a case = unwrap the case key (one HPKE open with the reader's key, already unlocked
and imported), import it, then open 50 messages of ~500 characters (50 HPKE opens), all
sealed in Python with `cryptography`, as the server seals them. Printed as ratios against
baselines measured in the same page in the same run: 50 AES-256-GCM decrypts with WebCrypto
of the same sizes (what a purely symmetric design would cost) and JSON.parse of the same
messages in the clear. Also: sealing one message (a reply), unlocking the passphrase-locked
key (scrypt N=2^17, once per session), and the bytes the crypto code adds to a page.

Run with `python -m bench.sealed_browser`; BENCH_ROUNDS sets the rounds (median printed).
"""

from __future__ import annotations

import base64
import gzip
import http.server
import json
import os
import shutil
import statistics
import threading
from pathlib import Path

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
MESSAGES = 50
STATIC = Path(__file__).resolve().parent.parent / "krov" / "core" / "static"
JS = STATIC / "krov" / "js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
CASE = "0b9e3c52-6a1f-4d8e-b7c4-5f2a9d0e1c37"

PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/bench.js"></script></head><body></body></html>"""
LOADER = b"""import * as sealed from "/static/krov/js/sealed.js";
window.sealed = sealed;
window.ready = true;
"""

# Runs in the page: every step timed with performance.now(), medians taken in Python.
ROUND = """async (d) => {
  const s = window.sealed;
  const readerKey = window.readerKey ??= await s.importReaderKey(s.b64urlDecode(d.readerRaw));
  const out = {};
  let t = performance.now();
  const caseKey = await s.importReaderKey(await s.openBytes(d.wrapped, readerKey, d.keyInfo));
  for (const m of d.sealed) await s.open(m, caseKey, d.info);
  out.hpke = performance.now() - t;

  // The baselines are too quick for the browser's coarse clock: repeat, then divide.
  t = performance.now();
  for (let i = 0; i < 10; i++) {
    const aes = await crypto.subtle.importKey("raw", s.b64urlDecode(d.aesKey), "AES-GCM", false,
                                              ["decrypt"]);
    const dec = new TextDecoder();
    for (const m of d.aes) {
      const bytes = s.b64urlDecode(m);
      dec.decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, aes,
                                             bytes.subarray(12)));
    }
  }
  out.aes = (performance.now() - t) / 10;

  t = performance.now();
  for (let i = 0; i < 200; i++) JSON.parse(d.plainJson);
  out.json = (performance.now() - t) / 200;

  t = performance.now();
  await s.seal(d.reply, d.casePublic, d.info);
  out.seal = performance.now() - t;
  return out;
}"""

UNLOCK = """async (d) => {
  const s = window.sealed;
  const key = await s.generateReaderKey();
  const locked = await s.lockKey(key.privateKey, key.publicKey, "bench pass phrase", "bench");
  const t = performance.now();
  s.zero(await s.unlockKey(locked, "bench pass phrase"));
  return performance.now() - t;
}"""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def message(i: int) -> str:
    text = (
        f"Poruka {i}: trebaju nam dva kreveta i prevoz od granice do Beograda u četvrtak. "
        "Потребан нам је смештај за троје, двоје деце. Нам потрібне житло. "
    )
    return (text * 4)[:500]


def case_data() -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    reader = X25519PrivateKey.generate()
    case = X25519PrivateKey.generate()
    info = f"krov/v1/content/{CASE}/message"
    key_info = f"krov/v1/case-key/{CASE}"
    texts = [message(i) for i in range(MESSAGES)]
    aes_key = AESGCM.generate_key(bit_length=256)
    aes = []
    for text in texts:
        nonce = os.urandom(12)
        aes.append(b64u(nonce + AESGCM(aes_key).encrypt(nonce, text.encode(), None)))
    return {
        "readerRaw": b64u(reader.private_bytes_raw()),
        "wrapped": "k1."
        + b64u(SUITE.encrypt(case.private_bytes_raw(), reader.public_key(), key_info.encode())),
        "keyInfo": key_info,
        "info": info,
        "casePublic": b64u(case.public_key().public_bytes_raw()),
        "sealed": [
            "k1." + b64u(SUITE.encrypt(t.encode(), case.public_key(), info.encode())) for t in texts
        ],
        "aesKey": b64u(aes_key),
        "aes": aes,
        "plainJson": json.dumps(texts, ensure_ascii=False),
        "reply": message(MESSAGES),
    }


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/":
            return self.send(PAGE, "text/html")
        if self.path == "/bench.js":
            return self.send(LOADER, "text/javascript")
        file = (STATIC / self.path.removeprefix("/static/")).resolve()
        if self.path.startswith("/static/") and file.is_relative_to(STATIC) and file.is_file():
            return self.send(file.read_bytes(), "text/javascript")
        self.send_response(404)
        self.end_headers()

    def send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def sizes() -> list[tuple[str, int, int]]:
    files = [JS / "sealed.js", JS / "vendor" / "krov-crypto-vendor.js"]
    rows = [(f.name, len(f.read_bytes()), len(gzip.compress(f.read_bytes(), 9))) for f in files]
    rows.append(("total", sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return rows


def main() -> None:
    from playwright.sync_api import sync_playwright

    data = case_data()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    violations: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security" in m.text else None,
            )
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("window.ready === true")
            for _ in range(3):  # warm-up: JIT, WebCrypto
                page.evaluate(ROUND, data)
            rounds = [page.evaluate(ROUND, data) for _ in range(ROUNDS)]
            unlock = [page.evaluate(UNLOCK) for _ in range(3)]
            user_agent = page.evaluate("navigator.userAgent")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(f"Chromium {user_agent.split('Chrome/')[-1].split()[0]}, headless; {ROUNDS} rounds")
    print(f"{MESSAGES} messages of ~500 characters; median ms per round")
    print(f"{'step':<52} {'ms':>8} {'× AES-GCM':>10} {'× JSON':>8}")
    rows = [
        ("JSON.parse of the plaintexts (baseline)", median["json"]),
        (f"{MESSAGES} AES-256-GCM decrypts, WebCrypto (baseline)", median["aes"]),
        (f"open a case: unwrap its key + {MESSAGES} HPKE opens", median["hpke"]),
        ("seal one reply (HPKE)", median["seal"]),
    ]
    for name, ms in rows:
        print(f"{name:<52} {ms:>8.3f} {ms / median['aes']:>10.1f} {ms / median['json']:>8.0f}")
    print(f"{'per HPKE open (of the 51)':<52} {median['hpke'] / (MESSAGES + 1):>8.3f}")
    print(
        f"{'unlock the reader key (scrypt N=2^17, r=8, once)':<52} "
        f"{statistics.median(unlock):>8.0f}"
    )
    print(f"{'file':<28} {'bytes':>8} {'gzip -9':>8}")
    for name, raw, gz in sizes():
        print(f"{name:<28} {raw:>8} {gz:>8}")
    if violations:
        print("CSP VIOLATIONS:", violations)


if __name__ == "__main__":
    main()
