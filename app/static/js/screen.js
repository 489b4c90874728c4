// The waiting room's screen: wait for a change (long poll), draw the calls, announce the
// newest one in the live region and, when switched on, with a chime. Falls back to
// asking the public queue API every two seconds while the long poll fails.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var texts = document.getElementById("texts").dataset;
  var version = main.dataset.version;
  var lastTop = null;
  var soundOn = false;
  var audio = null;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function chime() {
    if (!soundOn) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (delay, i) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = i ? 660 : 880;
        gain.gain.setValueAtTime(0.25, audio.currentTime + delay);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + delay + 0.3);
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + delay); osc.stop(audio.currentTime + delay + 0.3);
      });
    } catch (e) { /* no sound: the screen still shows the call */ }
  }

  function render(q) {
    var body = document.querySelector("#calls tbody");
    body.textContent = "";
    if (!q.called.length) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      tr.className = "empty"; td.colSpan = 2; td.textContent = texts.none;
      tr.appendChild(td); body.appendChild(tr);
    }
    q.called.forEach(function (call, i) {
      var tr = document.createElement("tr");
      [call.ticket, call.counter].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      if (i === 0) { tr.className = "latest"; }
      body.appendChild(tr);
    });
    var top = q.called.length ? q.called[0].ticket + "|" + q.called[0].counter + "|" + q.called[0].at : "";
    if (lastTop !== null && top && top !== lastTop) {
      body.firstChild.classList.add("fresh");
      document.getElementById("announce").textContent =
        fill(texts.call, {ticket: q.called[0].ticket, counter: q.called[0].counter});
      chime();
    }
    lastTop = top;
    document.getElementById("closed").textContent = q.open ? "" : texts.closed + " ";
    document.getElementById("waiting").textContent = fill(texts.waiting, {n: q.waiting});
    document.getElementById("wait").textContent = q.waiting ? " · " + fill(texts.wait, {m: q.estimated_wait_minutes}) : "";
  }

  function get(url, ok, fail) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.timeout = 30000;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) { ok(JSON.parse(xhr.responseText)); } else { fail(); }
    };
    xhr.onerror = xhr.ontimeout = fail;
    xhr.send();
  }

  function longPoll() {
    get(main.dataset.changes + "?seen=" + encodeURIComponent(version), function (data) {
      version = data.version;
      render(data.queue);
      longPoll();
    }, fallback);
  }

  var failures = 0;
  function fallback() {
    failures += 1;
    get(main.dataset.api, function (q) { render(q); }, function () {});
    // Every two seconds the plain API; every tenth try the long poll again.
    setTimeout(failures % 10 === 0 ? longPoll : fallback, 2000);
  }

  var button = document.getElementById("sound");
  button.hidden = false;
  button.addEventListener("click", function () {
    soundOn = !soundOn;
    button.setAttribute("aria-pressed", soundOn ? "true" : "false");
    button.textContent = soundOn ? texts.soundOn : texts.soundOff;
    if (soundOn) { chime(); }
  });

  // The first render marks the current newest call as seen, without announcing it.
  get(main.dataset.api, function (q) { render(q); longPoll(); }, fallback);
}());
