"""sealed.js in Debian's Chromium against Python's `cryptography`: the same wire formats.

The static files are served by a real HTTP server on 127.0.0.1 with the site's own
Content-Security-Policy (from settings), and the test page loads sealed.js as a module, as a
Krov page does. Every test ends with no CSP violation and no page error.
"""

from __future__ import annotations

import base64
import http.server
import json
import mimetypes
import os
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

from krov.core import sealing
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "krov" / "core" / "static"
PAGES = Path(__file__).resolve().parent / "static_pages"

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
CASE = "6f1c2a4e-8d3b-4c55-9e0a-2b7d9f1e3a10"
INFO = f"krov/v1/content/{CASE}/message"
# ~500 characters in three scripts, as a message in a case would be.
MESSAGE = (
    "Потребан нам је смештај за троје, двоје деце. "
    "Нам потрібне житло для трьох людей. "
    "We need a place for three, two of them children; we arrive on Thursday night. 🏠 "
) * 3


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def py_seal(data: bytes, public_b64: str, info: str) -> str:
    public_key = X25519PublicKey.from_public_bytes(unb64u(public_b64))
    return "k1." + b64u(SUITE.encrypt(data, public_key, info.encode()))


def py_open(sealed: str, private_key: X25519PrivateKey, info: str) -> bytes:
    assert sealed.startswith("k1.")
    return SUITE.decrypt(unb64u(sealed[3:]), private_key, info.encode())


def py_public_b64(private_key: X25519PrivateKey) -> str:
    return b64u(private_key.public_key().public_bytes_raw())


def py_requester_key(token: str, case_uuid: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"",
        info=f"krov/v1/requester/{case_uuid}".encode(),
    ).derive(token.encode())


def py_passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    secret = unicodedata.normalize("NFKC", passphrase).encode()
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)


def py_unlock(locked: dict, passphrase: str) -> bytes:
    """What a Python custodian does with a recovery file."""
    assert (locked["krov"], locked["v"], locked["kdf"]) == ("reader-key", 1, "scrypt")
    key = py_passphrase_key(
        passphrase, unb64u(locked["salt"]), locked["N"], locked["r"], locked["p"]
    )
    return AESGCM(key).decrypt(
        unb64u(locked["nonce"]),
        unb64u(locked["ct"]),
        f"krov/v1/reader-key/{locked['public']}".encode(),
    )


# --- the server and the browser ------------------------------------------------------------


def csp_header() -> str:
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class StaticHandler(http.server.BaseHTTPRequestHandler):
    """/static/… from krov/core/static, /pages/… from tests/core/static_pages, nothing else."""

    roots = {"/static/": STATIC, "/pages/": PAGES}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        for prefix, root in self.roots.items():
            if path.startswith(prefix):
                file = (root / path[len(prefix) :]).resolve()
                if file.is_relative_to(root) and file.is_file():
                    return self._send(200, file.read_bytes(), file.name)
        return self._send(404, b"", "missing.txt")

    def _send(self, status: int, body: bytes, name: str) -> None:
        content_type = "text/javascript" if name.endswith(".js") else mimetypes.guess_type(name)[0]
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type or 'text/plain'}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", csp_header())
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def static_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StaticHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def assert_clean(page) -> None:
    """No CSP violation (console or securitypolicyviolation event) and no page error."""
    assert page.csp_console == []
    assert page.page_errors == []
    assert page.evaluate("window.cspViolations") == []


@pytest.fixture
def page(chromium, static_server):
    """A fresh browser context (its own IndexedDB) with sealed.js loaded under the CSP."""
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.csp_console = []
    page.page_errors = []
    page.on(
        "console",
        lambda msg: (
            page.csp_console.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.base_url = static_server
    load(page)
    try:
        yield page
    finally:
        context.close()


def load(page) -> None:
    page.goto(f"{page.base_url}/pages/sealed.html")
    page.wait_for_function("window.sealedReady === true")


# JS helpers: bytes cross the boundary as base64url.
def js_new_reader_key(page) -> str:
    """A reader key made in the browser and kept there (window.readerKey); its public key."""
    return page.evaluate(
        """async () => {
          window.readerKey = await window.sealed.generateReaderKey();
          return window.readerKey.publicKey;
        }"""
    )


def js_failure(page, body: str, arg) -> str:
    """Run `body` (a JS expression over `s` = sealed and `a` = arg) and say how it failed."""
    return page.evaluate(
        f"""async (a) => {{
          const s = window.sealed;
          try {{ await ({body}); return "opened"; }}
          catch (error) {{ return `${{error.name}}: ${{error.message}}`; }}
        }}""",
        arg,
    )


# --- the page itself ---------------------------------------------------------------------


def test_sealed_js_loads_as_a_module_under_the_sites_csp(page):
    response = page.request.get(f"{page.base_url}/static/krov/js/sealed.js")
    assert response.headers["content-security-policy"] == csp_header()
    assert "script-src 'self'" in csp_header()
    assert "unsafe-eval" not in csp_header() and "wasm" not in csp_header()
    exported = page.evaluate("Object.keys(window.sealed).sort()")
    for name in [
        "generateReaderKey",
        "importReaderKey",
        "lockKey",
        "unlockKey",
        "seal",
        "sealBytes",
        "open",
        "openBytes",
        "requesterKey",
        "wrapSymmetric",
        "unwrapSymmetric",
        "saveLockedKey",
        "loadLockedKey",
        "wipe",
    ]:
        assert name in exported
    assert page.locator("#status").text_content() == "ready"
    assert_clean(page)


def test_the_csp_violation_watch_sees_a_violation(chromium, static_server):
    """The watch the other tests rely on is live: an inline script is refused and recorded."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{static_server}/pages/sealed.html")
        page.wait_for_function("window.sealedReady === true")
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.inlineRan = true";
              document.body.append(script);
            }"""
        )
        page.wait_for_function("window.cspViolations.length > 0")
        assert page.evaluate("window.inlineRan") is None
        assert page.evaluate("window.cspViolations")[0].startswith("script-src")
    finally:
        context.close()


# --- (a), (b), (c): HPKE both ways -----------------------------------------------------------


def test_python_sealed_message_opens_in_the_browser(page):
    public_b64 = js_new_reader_key(page)
    sealed = py_seal(MESSAGE.encode(), public_b64, INFO)
    assert sealed.startswith("k1.") and "=" not in sealed

    with_raw = page.evaluate(
        "([v, info]) => window.sealed.open(v, window.readerKey.privateKey, info)", [sealed, INFO]
    )
    assert with_raw == MESSAGE

    # The way a case page reads: import once (this zeroes the raw bytes), then open many.
    with_imported = page.evaluate(
        """async ([v, info]) => {
          const s = window.sealed;
          const raw = window.readerKey.privateKey;
          const key = await s.importReaderKey(raw);
          return {
            text: await s.open(v, key, info),
            publicB64: key.publicB64,
            zeroed: raw.every((b) => b === 0),
            extractable: key.privateKey.extractable,
          };
        }""",
        [sealed, INFO],
    )
    assert with_imported == {
        "text": MESSAGE,
        "publicB64": public_b64,
        "zeroed": True,
        "extractable": False,
    }
    assert_clean(page)


def test_browser_sealed_message_opens_in_python(page):
    reader = X25519PrivateKey.generate()
    sealed = page.evaluate(
        "([t, pub, info]) => window.sealed.seal(t, pub, info)",
        [MESSAGE, py_public_b64(reader), INFO],
    )
    assert sealed.startswith("k1.")
    assert py_open(sealed, reader, INFO).decode() == MESSAGE
    assert_clean(page)


def test_raw_keys_wrap_both_ways_with_seal_bytes_and_open_bytes(page):
    case_key = os.urandom(32)
    info = f"krov/v1/case-key/{CASE}"
    # Python wraps a case key for the browser's reader key.
    public_b64 = js_new_reader_key(page)
    unwrapped = page.evaluate(
        """async ([v, info]) => {
          const s = window.sealed;
          return s.b64urlEncode(await s.openBytes(v, window.readerKey.privateKey, info));
        }""",
        [py_seal(case_key, public_b64, info), info],
    )
    assert unb64u(unwrapped) == case_key
    # The browser wraps it for a reader whose key Python holds (a grant).
    reader = X25519PrivateKey.generate()
    wrapped = page.evaluate(
        """([k, pub, info]) =>
          window.sealed.sealBytes(window.sealed.b64urlDecode(k), pub, info)""",
        [b64u(case_key), py_public_b64(reader), info],
    )
    assert py_open(wrapped, reader, info) == case_key
    assert_clean(page)


def test_wrong_info_or_wrong_key_fails_in_the_browser(page):
    public_b64 = js_new_reader_key(page)
    sealed = py_seal(MESSAGE.encode(), public_b64, INFO)
    other_info = f"krov/v1/content/{CASE}/note"
    assert js_failure(
        page, "s.open(a[0], window.readerKey.privateKey, a[1])", [sealed, other_info]
    ).startswith("SealedError: This content cannot be opened")
    other_key = page.evaluate(
        "async () => (window.otherKey = await window.sealed.generateReaderKey()).publicKey"
    )
    assert other_key != public_b64
    assert js_failure(
        page, "s.open(a[0], window.otherKey.privateKey, a[1])", [sealed, INFO]
    ).startswith("SealedError: This content cannot be opened")
    # A flipped byte is refused; so is something that is not a sealed value.
    data = bytearray(unb64u(sealed[3:]))
    data[-1] ^= 1
    tampered = "k1." + b64u(bytes(data))
    assert js_failure(
        page, "s.open(a[0], window.readerKey.privateKey, a[1])", [tampered, INFO]
    ).startswith("SealedError")
    assert js_failure(
        page, "s.open(a[0], window.readerKey.privateKey, a[1])", ["s1.AAAA", INFO]
    ).startswith("SealedError")
    # The right key and info still open it: the failures above were the wrong inputs.
    assert (
        page.evaluate(
            "([v, info]) => window.sealed.open(v, window.readerKey.privateKey, info)",
            [sealed, INFO],
        )
        == MESSAGE
    )
    assert_clean(page)


def test_wrong_info_or_wrong_key_fails_in_python(page):
    reader = X25519PrivateKey.generate()
    sealed = page.evaluate(
        "([t, pub, info]) => window.sealed.seal(t, pub, info)",
        [MESSAGE, py_public_b64(reader), INFO],
    )
    with pytest.raises(InvalidTag):
        py_open(sealed, reader, f"krov/v1/content/{CASE}/note")
    with pytest.raises(InvalidTag):
        py_open(sealed, X25519PrivateKey.generate(), INFO)
    assert py_open(sealed, reader, INFO).decode() == MESSAGE
    assert_clean(page)


# --- (d): RFC 9180 known answer through the vendored library -----------------------------

# RFC 9180, appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
# (The RFC has no X25519 + AES-256-GCM vector; Krov's suite differs only in the AEAD, which
# the interop tests above cover against `cryptography`.)
RFC9180_A11 = {
    "info": "4f6465206f6e2061204772656369616e2055726e",
    "pkRm": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    "skRm": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    "enc": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    "encryptions": [
        {
            "aad": "436f756e742d30",
            "ct": "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
            "6d8770ac83d07bea87e13c512a",
        },
        {
            "aad": "436f756e742d31",
            "ct": "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab25"
            "1c03d0c22a56b8ca42c2063b84",
        },
        {
            "aad": "436f756e742d32",
            "ct": "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb7251649158"
            "8d96a19ad4a683518973dcc180",
        },
    ],
    "pt": "4265617574792069732074727574682c20747275746820626561757479",
}


def test_rfc9180_a11_vector_decrypts_with_the_vendored_library(page):
    result = page.evaluate(
        """async (v) => {
          const s = window.sealed, h = window.vendor;
          const hex = (text) => Uint8Array.from(text.match(/../g), (b) => parseInt(b, 16));
          const toHex = (bytes) =>
            Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
          // The recipient key goes through sealed.js's own import (non-extractable).
          const key = await s.importReaderKey(hex(v.skRm));
          const suite = new h.CipherSuite({
            kem: new h.DhkemX25519HkdfSha256(), kdf: new h.HkdfSha256(), aead: new h.Aes128Gcm(),
          });
          const context = await suite.createRecipientContext({
            recipientKey: { privateKey: key.privateKey, publicKey: key.publicKey },
            enc: hex(v.enc),
            info: hex(v.info),
          });
          const plaintexts = [];
          for (const e of v.encryptions) {
            plaintexts.push(toHex(await context.open(hex(e.ct), hex(e.aad))));
          }
          return { publicKey: toHex(s.b64urlDecode(key.publicB64)), plaintexts };
        }""",
        RFC9180_A11,
    )
    assert result["publicKey"] == RFC9180_A11["pkRm"]
    assert result["plaintexts"] == [RFC9180_A11["pt"]] * 3
    assert bytes.fromhex(RFC9180_A11["pt"]) == b"Beauty is truth, truth beauty"
    assert_clean(page)


# --- (e): the passphrase-locked reader key -------------------------------------------------

# "é" typed as e + combining acute; NFKC makes it the same passphrase as the precomposed one.
PASSPHRASE_TYPED = "Gorka ruka \u0065\u0301 kafana 1939"
PASSPHRASE = unicodedata.normalize("NFC", PASSPHRASE_TYPED)


def test_locked_key_unlocks_with_its_passphrase_and_refuses_another(page):
    result = page.evaluate(
        """async ([typed, later]) => {
          const s = window.sealed;
          const key = await s.generateReaderKey();
          const locked = await s.lockKey(key.privateKey, key.publicKey, typed, "laptop");
          const raw = await s.unlockKey(JSON.stringify(locked), later);
          let wrong;
          try { await s.unlockKey(locked, later + "!"); wrong = "unlocked"; }
          catch (error) { wrong = `${error.name}: ${error.message}`; }
          return {
            locked,
            same: s.b64urlEncode(raw) === s.b64urlEncode(key.privateKey),
            privateB64: s.b64urlEncode(key.privateKey),
            wrong,
          };
        }""",
        [PASSPHRASE_TYPED, PASSPHRASE],
    )
    locked = result["locked"]
    assert result["same"] is True
    assert result["wrong"] == "SealedError: Wrong passphrase (or a damaged key file)."
    assert set(locked) == {
        "krov",
        "v",
        "kdf",
        "N",
        "r",
        "p",
        "salt",
        "nonce",
        "ct",
        "public",
        "label",
    }
    assert (locked["N"], locked["r"], locked["p"], locked["label"]) == (131072, 8, 1, "laptop")
    assert len(unb64u(locked["salt"])) == 16 and len(unb64u(locked["nonce"])) == 12
    assert result["privateB64"] not in json.dumps(locked)

    # A Python custodian opens the same recovery file with cryptography's Scrypt + AESGCM.
    raw = py_unlock(locked, PASSPHRASE_TYPED)
    assert b64u(raw) == result["privateB64"]
    # ... and so does Krov's own reader of key files (the custodian's: krov.core.sealing).
    assert sealing.unlock_key(locked, PASSPHRASE_TYPED) == raw
    with pytest.raises(sealing.SealingError):
        sealing.unlock_key(locked, PASSPHRASE + "!")
    assert py_public_b64(X25519PrivateKey.from_private_bytes(raw)) == locked["public"]
    with pytest.raises(InvalidTag):
        py_unlock(locked, PASSPHRASE + "!")
    # The label is not bound, but the public key is: swapping it breaks the file.
    with pytest.raises(InvalidTag):
        py_unlock({**locked, "public": py_public_b64(X25519PrivateKey.generate())}, PASSPHRASE)
    assert_clean(page)


def test_python_made_recovery_file_unlocks_in_the_browser(page):
    reader = X25519PrivateKey.generate()
    public_b64 = py_public_b64(reader)
    salt, nonce = os.urandom(16), os.urandom(12)
    key = py_passphrase_key(PASSPHRASE, salt, 2**14, 8, 1)
    locked = {
        "krov": "reader-key",
        "v": 1,
        "kdf": "scrypt",
        "N": 2**14,
        "r": 8,
        "p": 1,
        "salt": b64u(salt),
        "nonce": b64u(nonce),
        "ct": b64u(
            AESGCM(key).encrypt(
                nonce,
                reader.private_bytes_raw(),
                f"krov/v1/reader-key/{public_b64}".encode(),
            )
        ),
        "public": public_b64,
        "label": "custodian",
    }
    sealed = py_seal(MESSAGE.encode(), public_b64, INFO)
    opened = page.evaluate(
        """async ([locked, passphrase, v, info]) => {
          const s = window.sealed;
          const key = await s.importReaderKey(await s.unlockKey(locked, passphrase));
          return await s.open(v, key, info);
        }""",
        [locked, PASSPHRASE_TYPED, sealed, INFO],
    )
    assert opened == MESSAGE
    # A key file `krov custodian init` writes (krov.core.sealing.lock_key) opens there too.
    custodian = sealing.KeyPair.generate()
    custodian_file = sealing.lock_key(
        custodian.private, PASSPHRASE_TYPED, label="custodian", params={"N": 2**14, "r": 8, "p": 1}
    )
    opened = page.evaluate(
        """async ([locked, passphrase, v, info]) => {
          const s = window.sealed;
          const key = await s.importReaderKey(await s.unlockKey(locked, passphrase));
          return await s.open(v, key, info);
        }""",
        [custodian_file, PASSPHRASE, py_seal(MESSAGE.encode(), custodian.public, INFO), INFO],
    )
    assert opened == MESSAGE
    # A file asking for an absurd scrypt cost is refused before any work.
    assert (
        js_failure(page, "s.unlockKey({...a[0], N: 2 ** 24}, a[1])", [locked, PASSPHRASE])
        == "SealedError: This is not a Krov key file."
    )
    assert_clean(page)


# --- (f): the requester's link key -------------------------------------------------------


def test_requester_link_key_wraps_both_ways_with_python(page):
    token = "v7Qm4bX1sL0pY9-zK2rWcT8hNfE3uJ6a"
    case_uuid = str(uuid.uuid4())
    key = py_requester_key(token, case_uuid)
    nonce = os.urandom(12)
    from_python = "s1." + b64u(
        nonce + AESGCM(key).encrypt(nonce, MESSAGE.encode(), case_uuid.encode())
    )

    result = page.evaluate(
        """async ([token, uuid, wrapped, text]) => {
          const s = window.sealed;
          const key = await s.requesterKey(token, uuid);
          return {
            opened: await s.unwrapSymmetricText(wrapped, key, uuid),
            fromBrowser: await s.wrapSymmetric(text, key, uuid),
            extractable: key.extractable,
          };
        }""",
        [token, case_uuid, from_python, MESSAGE],
    )
    assert result["opened"] == MESSAGE
    assert result["extractable"] is False
    wrapped = unb64u(result["fromBrowser"].removeprefix("s1."))
    assert result["fromBrowser"].startswith("s1.")
    assert AESGCM(key).decrypt(wrapped[:12], wrapped[12:], case_uuid.encode()) == MESSAGE.encode()

    # Another case's uuid or another token opens nothing, in either place.
    other_uuid = str(uuid.uuid4())
    with pytest.raises(InvalidTag):
        AESGCM(py_requester_key(token, other_uuid)).decrypt(
            wrapped[:12], wrapped[12:], other_uuid.encode()
        )
    with pytest.raises(InvalidTag):
        AESGCM(key).decrypt(wrapped[:12], wrapped[12:], other_uuid.encode())
    assert (
        js_failure(
            page,
            "s.requesterKey(a[0], a[1]).then((k) => s.unwrapSymmetric(a[2], k, a[1]))",
            [token + "x", case_uuid, from_python],
        )
        == "SealedError: This link cannot open this content."
    )
    assert (
        js_failure(
            page,
            "s.requesterKey(a[0], a[1]).then((k) => s.unwrapSymmetric(a[2], k, a[1]))",
            [token, other_uuid, from_python],
        )
        == "SealedError: This link cannot open this content."
    )
    assert_clean(page)


# --- (g): the key store on this device ---------------------------------------------------


def test_locked_key_is_kept_across_reloads_and_wipe_empties_indexeddb(page):
    locked = page.evaluate(
        """async () => {
          const s = window.sealed;
          const key = await s.generateReaderKey();
          const locked = await s.lockKey(key.privateKey, key.publicKey, "pass phrase", "phone");
          s.zero(key.privateKey);
          await s.saveLockedKey(locked);
          return locked;
        }"""
    )
    load(page)  # a new page load: the key must come from IndexedDB
    assert page.evaluate("window.sealed.loadLockedKey()") == locked

    # The unlocked key pair aid/keys.js keeps in a database of its own goes too.
    page.evaluate(
        """async () => {
          const pair = await window.sealed.importReaderKey(
            (await window.sealed.generateReaderKey()).privateKey);
          const db = await new Promise((resolve) => {
            const req = indexedDB.open("krov-unlocked", 1);
            req.onupgradeneeded = () => req.result.createObjectStore("keys");
            req.onsuccess = () => resolve(req.result);
          });
          await new Promise((resolve) => {
            const tx = db.transaction("keys", "readwrite");
            tx.objectStore("keys").put(pair, "reader");
            tx.oncomplete = resolve;
          });
          db.close();
        }"""
    )
    assert sorted(
        page.evaluate("async () => (await indexedDB.databases()).map((db) => db.name)")
    ) == ["krov-keys", "krov-unlocked"]

    page.evaluate("window.sealed.wipe()")
    assert page.evaluate("async () => (await indexedDB.databases()).map((db) => db.name)") == []
    load(page)
    assert page.evaluate("window.sealed.loadLockedKey()") is None
    assert_clean(page)
