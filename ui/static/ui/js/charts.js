// A chart per picked metric on a run's page: each <figure class="chart" data-url=...> fetches its metric's history
// (at most about 1,000 points, see tracking.selectors) and draws it with uPlot, the step on the x axis; the legend
// shows the values under the cursor.
(function () {
  "use strict";

  function width(figure) {
    return Math.max(280, Math.min(figure.clientWidth || 640, 900));
  }

  function draw(figure, history) {
    var note = figure.querySelector(".chart-note");
    if (history.steps.length === 0) {
      note.textContent = "No points.";
      return;
    }
    if (history.total > history.steps.length) {
      note.textContent = history.steps.length + " of " + history.total + " points shown, evenly spaced.";
    }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    var ink = dark ? "#d6d6d6" : "#333";
    var grid = dark ? "#444" : "#e3e3e3";
    var options = {
      width: width(figure),
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: "step", stroke: ink, grid: { stroke: grid } },
        { stroke: ink, grid: { stroke: grid } },
      ],
      series: [
        { label: "step" },
        { label: history.key, stroke: dark ? "#6cb6ff" : "#0b63c4", width: 2, spanGaps: false },
      ],
    };
    var plot = new uPlot(options, [history.steps, history.values], figure.querySelector(".plot"));
    figure.setAttribute("data-points", String(history.steps.length));
    window.addEventListener("resize", function () {
      plot.setSize({ width: width(figure), height: 260 });
    });
  }

  function load(figure) {
    fetch(figure.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (history) {
        draw(figure, history);
      })
      .catch(function (error) {
        figure.querySelector(".chart-note").textContent = "The history could not be read (" + error.message + ").";
      });
  }

  document.querySelectorAll("figure.chart[data-url]").forEach(load);
})();
