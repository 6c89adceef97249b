/* The four-quadrant chart of a survey campaign (satisfaction on x, importance on y).
   Data comes from the page's json_script block "quadrant-data"; no inline script (CSP). */
(function () {
  "use strict";
  var holder = document.getElementById("quadrant-chart");
  var source = document.getElementById("quadrant-data");
  if (!holder || !source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var cx = parseFloat(data.crosshair.satisfaction);
  var cy = parseFloat(data.crosshair.importance);
  var colours = { 1: "#0b6e4f", 2: "#b02a37", 3: "#6c757d", 4: "#0d6efd" };
  var xs = data.points.map(function (p) { return parseFloat(p.satisfaction); });
  var ys = data.points.map(function (p) { return parseFloat(p.importance); });
  function bounds(values, centre) {
    var lo = Math.min.apply(null, values.concat([centre]));
    var hi = Math.max.apply(null, values.concat([centre]));
    var pad = Math.max((hi - lo) * 0.15, 0.1);
    return [Math.max(1, Math.floor((lo - pad) * 10) / 10), Math.min(5, Math.ceil((hi + pad) * 10) / 10)];
  }
  var xb = bounds(xs, cx);
  var yb = bounds(ys, cy);
  var shade = function (x0, x1, y0, y1, q) {
    return [
      { xAxis: x0, yAxis: y0, itemStyle: { color: colours[q], opacity: 0.06 }, name: data.labels.quadrants[q] },
      { xAxis: x1, yAxis: y1 }
    ];
  };
  var chart = echarts.init(holder);
  chart.setOption({
    animation: false,
    grid: { left: 56, right: 24, top: 24, bottom: 48 },
    tooltip: {
      trigger: "item",
      formatter: function (item) {
        var p = item.data.point;
        if (!p) { return ""; }
        return p.code + " " + p.name + "<br>" + data.labels.x + ": " + p.satisfaction +
          "<br>" + data.labels.y + ": " + p.importance + "<br>" + data.labels.gap + ": " + p.gap +
          "<br>" + data.labels.quadrants[p.quadrant] + "<br>" + data.labels.n + ": " + p.n;
      }
    },
    xAxis: { name: data.labels.x, nameLocation: "middle", nameGap: 28, min: xb[0], max: xb[1], scale: true },
    yAxis: { name: data.labels.y, nameLocation: "middle", nameGap: 40, min: yb[0], max: yb[1], scale: true },
    series: [{
      type: "scatter",
      symbolSize: 12,
      data: data.points.map(function (p) {
        return {
          value: [parseFloat(p.satisfaction), parseFloat(p.importance)],
          point: p,
          itemStyle: { color: colours[p.quadrant] }
        };
      }),
      label: { show: true, position: "right", formatter: function (item) { return item.data.point.code; } },
      markLine: {
        silent: true,
        symbol: "none",
        lineStyle: { type: "dashed", color: "#495057" },
        label: { formatter: function (item) { return item.value; } },
        data: [{ xAxis: cx }, { yAxis: cy }]
      },
      markArea: {
        silent: true,
        label: { show: true, position: "insideTop", color: "#495057", fontSize: 11 },
        data: [
          shade(cx, xb[1], cy, yb[1], 1),
          shade(xb[0], cx, cy, yb[1], 2),
          shade(xb[0], cx, yb[0], cy, 3),
          shade(cx, xb[1], yb[0], cy, 4)
        ]
      }
    }]
  });
  holder.setAttribute("data-ready", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
