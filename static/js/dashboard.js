/* Management dashboard charts (ECharts, vendored). Data comes from the page's json_script
 * block "dashboard-charts"; clicking a bar or slice opens the list behind it. No inline script:
 * the CSP allows only files from 'self'. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var palette = ["#0b6e4f", "#e0a526", "#d9822b", "#c23b22", "#6b2d5c", "#3d7ea6"];

  function lookup(path) {
    var parts = path.split(".");
    var section = data[parts[0]];
    return section ? section[parts[1]] : undefined;
  }

  function drillOnClick(chart) {
    chart.on("click", function (event) {
      if (event.data && event.data.url) {
        window.location.href = event.data.url;
      }
    });
  }

  function make(element, option) {
    var chart = echarts.init(element);
    option.title = { text: element.dataset.title || "", textStyle: { fontSize: 13 } };
    option.color = palette;
    chart.setOption(option);
    charts.push(chart);
    drillOnClick(chart);
    return chart;
  }

  var renderers = {
    "loans.classes": function (element, rows) {
      make(element, {
        tooltip: { trigger: "item", valueFormatter: function (v) { return "¥" + Number(v).toLocaleString(); } },
        series: [{
          type: "pie", radius: ["35%", "65%"], top: 30,
          data: rows.map(function (r) { return { name: r.name, value: Number(r.value), url: r.url }; })
        }]
      });
    },
    "loans.dpd": function (element, rows) {
      make(element, {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 10, top: 40, bottom: 30 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", data: rows.map(function (r) { return { value: r.value, url: r.url }; }) }]
      });
    },
    "loans.trend": function (element) {
      var url = (data.loans || {}).trend_url;
      if (!url) { return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { months: [] }; })
        .then(function (payload) {
          var months = payload.months || [];
          make(element, {
            tooltip: { trigger: "axis", valueFormatter: function (v) { return Number(v).toFixed(2) + "%"; } },
            grid: { left: 45, right: 10, top: 40, bottom: 30 },
            xAxis: { type: "category", data: months.map(function (m) { return m.month; }) },
            yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
            series: [{ type: "line", smooth: true, data: months.map(function (m) { return (Number(m.ratio) * 100).toFixed(2); }) }]
          });
          element.dataset.loaded = "true";
        })
        .catch(function () {
          // The network failed, or the user left the page while it loaded: say so, no error.
          element.dataset.loaded = "failed";
          element.textContent = element.dataset.failedLabel || "";
        });
    },
    "approval.timing": function (element, rows) {
      make(element, {
        tooltip: { trigger: "axis" },
        legend: { top: 22 },
        grid: { left: 45, right: 10, top: 60, bottom: 60 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: 30 } },
        yAxis: { type: "value" },
        series: [
          { name: element.dataset.avgLabel || "avg", type: "bar", data: rows.map(function (r) { return Number(r.avg); }) },
          { name: element.dataset.p90Label || "p90", type: "bar", data: rows.map(function (r) { return Number(r.p90); }) },
          { name: element.dataset.targetLabel || "target", type: "line", data: rows.map(function (r) { return r.target; }) }
        ]
      });
    },
    "grid.coverage": function (element, rows) {
      make(element, {
        tooltip: { trigger: "axis" },
        legend: { top: 22 },
        grid: { left: 40, right: 10, top: 60, bottom: 40 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
        yAxis: { type: "value", max: 100 },
        series: [
          { name: element.dataset.coverageLabel || "coverage", type: "bar", data: rows.map(function (r) { return Number(r.coverage); }) },
          { name: element.dataset.filingLabel || "filing", type: "bar", data: rows.map(function (r) { return Number(r.filing); }) }
        ]
      });
    },
    "surveys.quadrant": function (element, chart) {
      var points = chart.points || [];
      make(element, {
        tooltip: { formatter: function (p) { return p.data.name + "<br>" + p.data.value[0] + " / " + p.data.value[1]; } },
        grid: { left: 45, right: 20, top: 40, bottom: 40 },
        xAxis: { type: "value", name: element.dataset.xLabel || "", scale: true },
        yAxis: { type: "value", name: element.dataset.yLabel || "", scale: true },
        series: [{
          type: "scatter", symbolSize: 12,
          data: points.map(function (p) { return { name: p.name, value: [Number(p.x), Number(p.y)], url: p.url }; }),
          markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed" },
            data: [{ xAxis: Number(chart.x_mean) }, { yAxis: Number(chart.y_mean) }] }
        }]
      });
    }
  };

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var key = element.dataset.chart;
    var render = renderers[key];
    if (!render) { return; }
    render(element, lookup(key));
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
