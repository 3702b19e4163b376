// RSVPs a signed-in person chose to see on their home page, kept by this browser only.
// The server never links an RSVP to an account (who goes to a protest is not its to know);
// the RSVP page's "Show on my home page" stores its own address here, and the home page lists
// what is stored. One list per account (data-owner, an opaque keyed hash); the panic button
// clears every list (forget-keys.js). Without script nothing is offered and nothing is kept.
(function () {
  "use strict";
  var PREFIX = "krov.rsvps.";
  var DAY = 86400000;

  // "2026-12-08T18:00:00+0100" (the templates' machine date) as ISO 8601 that Date.parse
  // is required to read: the offset with its colon.
  function when(text) {
    return Date.parse(String(text).replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
  }

  function storageKey(owner) {
    return owner ? PREFIX + owner : "";
  }

  function load(key) {
    try {
      var found = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(found) ? found.filter(valid) : [];
    } catch (_error) {
      return []; // no storage here (private mode), or something else's text
    }
  }

  function save(key, list) {
    try {
      if (list.length) window.localStorage.setItem(key, JSON.stringify(list));
      else window.localStorage.removeItem(key);
      return true;
    } catch (_error) {
      return false;
    }
  }

  function valid(entry) {
    return (
      entry &&
      typeof entry.url === "string" &&
      /^\/[^/]/.test(entry.url) &&
      typeof entry.title === "string" &&
      typeof entry.when === "string" &&
      !isNaN(when(entry.starts))
    );
  }

  // An event a day past its start is over: it leaves the list by itself.
  function current(list) {
    var cutoff = Date.now() - DAY;
    return list.filter(function (entry) {
      return when(entry.starts) > cutoff;
    });
  }

  function keepWidget(box) {
    var key = storageKey(box.dataset.owner);
    var url = box.dataset.url;
    var keep = box.querySelector("[data-keep]");
    var forget = box.querySelector("[data-forget]");
    var said = box.querySelector("[data-said]");
    if (!key || !url || !keep || !forget) return;
    var others = function () {
      return current(load(key)).filter(function (entry) {
        return entry.url !== url;
      });
    };
    if (box.dataset.status === "cancelled") {
      save(key, others()); // a cancelled RSVP is nothing to show
      return;
    }
    function show(message) {
      var kept = load(key).some(function (entry) {
        return entry.url === url;
      });
      keep.hidden = kept;
      forget.hidden = !kept;
      if (said) said.textContent = message || "";
    }
    keep.addEventListener("click", function () {
      var list = others();
      list.push({
        url: url,
        title: box.dataset.title || "",
        when: box.dataset.when || "",
        starts: box.dataset.starts,
      });
      show(save(key, list) ? box.dataset.keptText : box.dataset.failedText);
      forget.focus();
    });
    forget.addEventListener("click", function () {
      save(key, others());
      show(box.dataset.forgottenText);
      keep.focus();
    });
    box.hidden = false;
    show("");
  }

  function homeList(box) {
    var key = storageKey(box.dataset.owner);
    var list = box.querySelector("ul");
    var forgetAll = box.querySelector("[data-forget-all]");
    if (!key || !list) return;
    var entries = current(load(key));
    save(key, entries);
    if (!entries.length) return;
    entries.sort(function (a, b) {
      return when(a.starts) - when(b.starts);
    });
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.title;
      var date = document.createElement("span");
      date.className = "muted";
      date.textContent = " " + entry.when;
      item.appendChild(link);
      item.appendChild(date);
      list.appendChild(item);
    });
    if (forgetAll) {
      forgetAll.addEventListener("click", function () {
        save(key, []);
        box.hidden = true;
      });
    }
    box.hidden = false;
  }

  var widget = document.querySelector("[data-keep-rsvp]");
  if (widget) keepWidget(widget);
  var home = document.querySelector("[data-device-rsvps]");
  if (home) homeList(home);
})();
