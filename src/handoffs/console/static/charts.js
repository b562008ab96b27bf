/* Draws every <canvas data-chart="..."> with Chart.js: the server puts the data in the page
   (see handoffs/console/charts.py); this file only turns it into a Chart.js configuration. */
(function () {
  "use strict";
  var number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

  function withUnit(value, unit) {
    if (value === null || value === undefined) { return "-"; }
    return number.format(value) + (unit ? (unit === "%" ? "%" : " " + unit) : "");
  }

  function draw(canvas) {
    if (canvas.dataset.drawn) { return; }
    var spec = JSON.parse(canvas.dataset.chart);
    canvas.dataset.drawn = "yes";
    var datasets = spec.series.map(function (s) {
      return {
        label: s.name, data: s.values, backgroundColor: s.color, borderColor: s.color,
        borderWidth: 2, pointRadius: spec.labels.length > 40 ? 0 : 3, spanGaps: false
      };
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { autoSkip: true, maxRotation: 0 }, grid: { display: false } },
          y: {
            beginAtZero: true,
            title: { display: Boolean(spec.unit), text: spec.unit },
            ticks: { precision: 0, callback: function (v) { return number.format(v) + (spec.unit === "%" ? "%" : ""); } }
          }
        },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) { return item.dataset.label + ": " + withUnit(item.parsed.y, spec.unit); }
            }
          }
        }
      }
    });
  }

  function drawAll() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
}());
