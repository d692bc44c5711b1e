/* Boxoffice: the ticket shop in a dialog on a venue's page. A page that loads this script
 * from the ticket host (https://<ticket host>/<client>/iframes/__SCRIPT_NAME__) gets
 * vdm_order(event_id, session_id): it opens the shop at that event, or at the cart for
 * "cart", in an iframe. The ticket host and the client are read from this script's own
 * address. The shop's {voordemensen_basketcounter: N} messages, from the ticket host's
 * origin only, set the text of every .voordemensen_basketcounter and .vdm_basketcounter;
 * its {voordemensen_close: true} closes the dialog.
 * Documentation: docs/shop.md, "Embedding the shop in a site". */
(function () {
  "use strict";
  if (window.vdm_order && window.vdm_order.boxoffice) {
    return;
  }
  var DIALOG_STYLE = __DIALOG_STYLE__;
  var BACKDROP_STYLE = {
    position: "fixed", top: "0", right: "0", bottom: "0", left: "0",
    "z-index": "2147483000", background: "rgba(0, 0, 0, 0.55)"
  };
  var BAR_STYLE = {
    display: "flex", "justify-content": "flex-end", "align-items": "center",
    padding: "4px 8px", background: "#ffffff", "border-bottom": "1px solid #767676"
  };
  var CLOSE_STYLE = {
    "min-width": "44px", "min-height": "44px", padding: "0 14px", margin: "0",
    font: "600 16px/1.2 system-ui, sans-serif", color: "#1a1a1a", background: "#ffffff",
    border: "2px solid #1a1a1a", "border-radius": "6px", cursor: "pointer"
  };
  var FRAME_STYLE = {
    display: "block", flex: "1 1 auto", width: "100%", "min-height": "0", border: "0",
    background: "#ffffff"
  };
  var COUNTERS = ".voordemensen_basketcounter, .vdm_basketcounter";

  function ownScript() {
    if (document.currentScript && document.currentScript.src) {
      return document.currentScript;
    }
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/iframes\/vdm_(side)?loader\.js(?:[?#]|$)/.test(scripts[i].src)) {
        return scripts[i];
      }
    }
    return null;
  }

  var script = ownScript();
  if (!script) {
    return;
  }
  var source = new URL(script.src, document.baseURI);
  // https://<ticket host>/<client>: the address up to /iframes/.
  var base = source.origin + source.pathname.replace(/\/iframes\/[^\/]*$/, "");
  var shopOrigin = source.origin;
  var dutch = /^nl\b/i.test(document.documentElement.lang || navigator.language || "");
  var TEXT = dutch
    ? {dialog: "Kaartverkoop", frame: "Kaartverkoop", close: "Sluiten"}
    : {dialog: "Ticket shop", frame: "Ticket shop", close: "Close"};
  var current = null;

  function element(tag, style) {
    var made = document.createElement(tag);
    for (var name in style) {
      made.style.setProperty(name, style[name]);
    }
    return made;
  }

  function shopUrl(eventId, sessionId) {
    var id = String(eventId);
    var url = new URL(base + (id === "cart" ? "/shop/cart" : "/shop/event/" + encodeURIComponent(id)));
    if (sessionId !== undefined && sessionId !== null && String(sessionId) !== "") {
      url.searchParams.set("session_id", String(sessionId));
    }
    return url.href;
  }

  function onKey(event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      close();
    }
  }

  // Focus stays in the dialog: focus that lands outside it goes to the close button.
  function onFocus(event) {
    if (current && !current.dialog.contains(event.target)) {
      current.close.focus();
    }
  }

  function close() {
    if (!current) {
      return;
    }
    var closing = current;
    current = null;
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("focusin", onFocus, true);
    closing.backdrop.parentNode.removeChild(closing.backdrop);
    document.documentElement.style.overflow = closing.overflow;
    if (closing.returnTo && closing.returnTo.focus && document.contains(closing.returnTo)) {
      closing.returnTo.focus();
    }
  }

  function open(eventId, sessionId) {
    var returnTo = current ? current.returnTo : document.activeElement;
    close();
    var backdrop = element("div", BACKDROP_STYLE);
    var dialog = element("div", DIALOG_STYLE);
    dialog.className = "vdm-dialog";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", TEXT.dialog);
    var bar = element("div", BAR_STYLE);
    var button = element("button", CLOSE_STYLE);
    button.type = "button";
    button.className = "vdm-close";
    button.textContent = TEXT.close + " \u00d7";
    var frame = element("iframe", FRAME_STYLE);
    frame.className = "vdm-frame";
    frame.title = TEXT.frame;
    frame.src = shopUrl(eventId, sessionId);
    bar.appendChild(button);
    dialog.appendChild(bar);
    dialog.appendChild(frame);
    backdrop.appendChild(dialog);
    button.addEventListener("click", close);
    backdrop.addEventListener("click", function (event) {
      if (event.target === backdrop) {
        close();
      }
    });
    current = {
      backdrop: backdrop,
      dialog: dialog,
      close: button,
      returnTo: returnTo,
      overflow: document.documentElement.style.overflow
    };
    document.body.appendChild(backdrop);
    document.documentElement.style.overflow = "hidden";
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("focusin", onFocus, true);
    button.focus();
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== shopOrigin || !data || typeof data !== "object") {
      return;
    }
    // Escape pressed in the shop (its keys do not reach this page): the shop asks to close.
    if (data.voordemensen_close === true) {
      close();
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(data, "voordemensen_basketcounter")) {
      return;
    }
    var count = String(data.voordemensen_basketcounter);
    if (!/^[0-9]{1,6}$/.test(count)) {
      return;
    }
    var counters = document.querySelectorAll(COUNTERS);
    for (var i = 0; i < counters.length; i++) {
      counters[i].textContent = String(Number(count));
    }
  });

  open.boxoffice = true;
  window.vdm_order = open;
})();
