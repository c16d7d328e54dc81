// Metric charts on a run's page and on the comparison of runs. Each <figure class="chart"> names the histories it
// draws: data-url (one run's metric) or data-series (a JSON list of {label, url}, one line per run). Each history is
// at most about 1,000 points (see tracking.selectors); uPlot draws them with the step on the x axis (or, where the
// charts' container says data-x="time", the time each point was logged), a drag zooms in, a double click zooms out,
// and the legend shows the values under the cursor. Where the container says data-live="N" (a running run), the
// histories are read again every N seconds while the page is in view, so new points show.
(function () {
  "use strict";

  var LIGHT = ["#0b63c4", "#c4320b", "#1e7e34", "#8e44ad", "#b7791f", "#00838f", "#ad1457", "#455a64", "#6d4c41", "#2e7d32"];
  var DARK = ["#6cb6ff", "#ff8a65", "#7ee2a8", "#d7a6f5", "#f2cc60", "#4dd0e1", "#f48fb1", "#b0bec5", "#bcaaa4", "#a5d6a7"];

  function width(figure) {
    return Math.max(280, Math.min(figure.clientWidth || 640, 900));
  }

  function described(figure) {
    var series = figure.getAttribute("data-series");
    if (series) {
      return JSON.parse(series);
    }
    return [{ label: figure.getAttribute("data-key"), url: figure.getAttribute("data-url") }];
  }

  function read(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function axis(figure) {
    var charts = figure.closest(".charts");
    return charts && charts.getAttribute("data-x") === "time" ? "time" : "step";
  }

  function columns(histories, x) {
    var xs = function (history) {
      // uPlot's time scale counts seconds.
      return x === "time" ? history.times.map(function (ms) { return ms / 1000; }) : history.steps;
    };
    return histories.length === 1
      ? [xs(histories[0]), histories[0].values]
      : uPlot.join(histories.map(function (history) { return [xs(history), history.values]; }));
  }

  function draw(figure, lines, histories) {
    var note = figure.querySelector(".chart-note");
    var points = histories.reduce(function (sum, history) { return sum + history.steps.length; }, 0);
    if (points === 0) {
      note.textContent = "No points.";
      return;
    }
    var thinned = histories.filter(function (history) { return history.thinned; });
    if (thinned.length) {
      note.textContent = "Long histories are shown as 1,000 evenly spaced points.";
    }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    var palette = dark ? DARK : LIGHT;
    var ink = dark ? "#d6d6d6" : "#333";
    var grid = dark ? "#444" : "#e3e3e3";
    var x = axis(figure);
    var data = columns(histories, x);
    var series = [{ label: x }].concat(lines.map(function (line, index) {
      return { label: line.label, stroke: palette[index % palette.length], width: 2, spanGaps: histories.length > 1 };
    }));
    var options = {
      width: width(figure),
      height: 260,
      scales: { x: { time: x === "time" } },
      axes: [
        { label: x, stroke: ink, grid: { stroke: grid } },
        { stroke: ink, grid: { stroke: grid } },
      ],
      series: series,
    };
    var plot = new uPlot(options, data, figure.querySelector(".plot"));
    figure.setAttribute("data-points", String(points));
    window.addEventListener("resize", function () {
      plot.setSize({ width: width(figure), height: 260 });
    });
    return plot;
  }

  function follow(figure, lines, plot, seconds) {
    window.setInterval(function () {
      if (document.visibilityState !== "visible") {
        return;
      }
      Promise.all(lines.map(function (line) { return read(line.url); })).then(function (histories) {
        var points = histories.reduce(function (sum, history) { return sum + history.steps.length; }, 0);
        // Kept where the reader has zoomed in; redrawn whole otherwise.
        plot.setData(columns(histories, axis(figure)), plot.scales.x.min === plot.data[0][0]);
        figure.setAttribute("data-points", String(points));
      }).catch(function () { /* The next read tries again. */ });
    }, seconds * 1000);
  }

  function load(figure) {
    var lines = described(figure);
    var charts = figure.closest(".charts");
    var live = charts ? parseInt(charts.getAttribute("data-live") || "0", 10) : 0;
    Promise.all(lines.map(function (line) { return read(line.url); }))
      .then(function (histories) {
        var plot = draw(figure, lines, histories);
        if (plot && live > 0) {
          follow(figure, lines, plot, live);
        }
      })
      .catch(function (error) {
        figure.querySelector(".chart-note").textContent = "The history could not be read (" + error.message + ").";
      });
  }

  document.querySelectorAll("figure.chart").forEach(load);
})();
