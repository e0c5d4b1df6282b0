/* Draws the sales dashboard's charts with ECharts (vendor/echarts-*.min.js, loaded before
 * this file). Each chart is an element with data-chart naming the id of a JSON script tag
 * (Django's json_script) that holds {type, categories, series, stack}; labels arrive
 * translated. No inline script, so the pages keep a strict Content-Security-Policy. The
 * table under each chart is its text alternative. */
(function () {
  "use strict";

  function barOption(spec) {
    var many = spec.categories.length > 4;
    return {
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { show: spec.series.length > 1, top: 0 },
      grid: { left: 8, right: 8, top: spec.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: spec.categories,
        axisLabel: { interval: 0, rotate: many ? 30 : 0, hideOverlap: true }
      },
      yAxis: { type: "value" },
      series: spec.series.map(function (serie) {
        return { name: serie.name, type: "bar", data: serie.data, stack: spec.stack ? "total" : undefined };
      })
    };
  }

  function funnelOption(spec) {
    var serie = spec.series[0] || { name: "", data: [] };
    return {
      aria: { enabled: true },
      tooltip: { trigger: "item" },
      series: [{
        name: serie.name,
        type: "funnel",
        sort: "none",
        left: "5%",
        width: "90%",
        minSize: "8%",
        label: { show: true, position: "inside" },
        data: spec.categories.map(function (name, index) {
          return { name: name, value: serie.data[index] };
        })
      }]
    };
  }

  function draw(root) {
    if (!window.echarts || !root || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.getAttribute("data-chart-drawn")) {
        return;
      }
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var spec = JSON.parse(source.textContent);
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(spec.type === "funnel" ? funnelOption(spec) : barOption(spec));
      element.setAttribute("data-chart-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
