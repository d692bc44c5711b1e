// The shop's one script: the seat map (choose seats with the mouse or the keyboard), the
// cart's countdown, and telling an embedding site how many tickets the cart holds.
(function () {
  "use strict";

  function tellParent() {
    // The official plugin's listener reads `voordemensen_basketcounter` (docs/shop.md).
    if (window.parent && window.parent !== window) {
      var main = document.querySelector("[data-basket-count]");
      var count = parseInt((main && main.getAttribute("data-basket-count")) || "0", 10);
      window.parent.postMessage({ voordemensen_basketcounter: count }, "*");
      // Keys pressed in a frame do not reach the embedding page: on Escape, ask its dialog
      // to close (the embed script listens, docs/shop.md).
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          window.parent.postMessage({ voordemensen_close: true }, "*");
        }
      });
    }
  }

  function seatMap(form) {
    var seats = Array.prototype.slice.call(form.querySelectorAll(".seat.free"));
    var inputs = form.querySelector(".chosen-inputs");
    var summary = form.querySelector(".chosen-summary");
    var none = summary.textContent;
    var chosenOne = form.getAttribute("data-chosen-one") || "";
    var chosenMany = form.getAttribute("data-chosen") || "";
    // A rank's ticket-type choice is shown once a seat of that rank is chosen.
    var rankPrices = Array.prototype.slice.call(form.querySelectorAll(".rank-price"));

    function sync() {
      inputs.textContent = "";
      var names = [];
      var ranks = {};
      seats.forEach(function (seat) {
        if (seat.getAttribute("aria-checked") === "true") {
          ranks[seat.getAttribute("data-rank")] = true;
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "seat";
          input.value = seat.getAttribute("data-seat");
          inputs.appendChild(input);
          names.push(seat.getAttribute("aria-label"));
        }
      });
      var heading = names.length === 1 ? chosenOne : chosenMany.replace("{count}", names.length);
      summary.textContent = names.length ? heading + " " + names.join("; ") : none;
      rankPrices.forEach(function (field) {
        field.hidden = !ranks[field.getAttribute("data-rank")];
      });
    }

    function toggle(seat) {
      var on = seat.getAttribute("aria-checked") !== "true";
      seat.setAttribute("aria-checked", on ? "true" : "false");
      sync();
    }

    function focusSeat(seat) {
      seats.forEach(function (s) { s.setAttribute("tabindex", s === seat ? "0" : "-1"); });
      seat.focus();
    }

    function neighbour(seat, key) {
      var row = parseInt(seat.getAttribute("data-row"), 10);
      var x = parseFloat(seat.getAttribute("data-x"));
      var index = seats.indexOf(seat);
      if (key === "ArrowRight") { return seats[index + 1]; }
      if (key === "ArrowLeft") { return seats[index - 1]; }
      if (key === "Home") { return seats[0]; }
      if (key === "End") { return seats[seats.length - 1]; }
      var step = key === "ArrowDown" ? 1 : -1;
      var rows = seats.map(function (s) { return parseInt(s.getAttribute("data-row"), 10); });
      var target = null;
      for (var r = row + step; r >= 0 && r <= Math.max.apply(null, rows); r += step) {
        var candidates = seats.filter(function (s, i) { return rows[i] === r; });
        if (candidates.length) {
          target = candidates.reduce(function (best, s) {
            var d = Math.abs(parseFloat(s.getAttribute("data-x")) - x);
            return best === null || d < best.d ? { s: s, d: d } : best;
          }, null).s;
          break;
        }
      }
      return target;
    }

    seats.forEach(function (seat) {
      seat.addEventListener("click", function () { focusSeat(seat); toggle(seat); });
      seat.addEventListener("keydown", function (event) {
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          toggle(seat);
          return;
        }
        if (["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End"].indexOf(event.key) >= 0) {
          event.preventDefault();
          var next = neighbour(seat, event.key);
          if (next) { focusSeat(next); }
        }
      });
    });
    sync();
  }

  function countdown(hold) {
    var left = parseInt(hold.getAttribute("data-seconds") || "0", 10);
    var line = hold.querySelector(".countdown-line");
    var shown = hold.querySelector(".countdown");
    var expired = document.querySelector(".expired-note");
    line.hidden = false;
    function tick() {
      if (left <= 0) {
        hold.hidden = true;
        if (expired) { expired.hidden = false; }
        return;
      }
      shown.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tellParent();
    var form = document.getElementById("seat-form");
    if (form) { seatMap(form); }
    var hold = document.querySelector(".hold[data-seconds]");
    if (hold) { countdown(hold); }
  });
})();
