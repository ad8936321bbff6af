/* The branch overview's charts, drawn with the vendored ECharts from the JSON embedded in the page
   (the same document GET /api/v1/overview returns) and the labels of the page's language. */
(function () {
  "use strict";

  var C = window.wealthcrmCharts;
  var TIER_COLORS = C.TIER_COLORS;
  var INK = C.INK;
  var MUTED = C.MUTED;
  var GRID_LINE = C.GRID_LINE;
  var readJson = C.readJson;

  var data = readJson("overview-data");
  var labels = readJson("overview-labels");
  if (!data || !labels || typeof echarts === "undefined") {
    return;
  }
  var zh = labels.locale === "zh_CN";

  function fullMoney(value) {
    return C.money(value, zh);
  }

  function axisMoney(value) {
    return C.axisMoney(value, zh);
  }

  function count(value) {
    return Number(value).toLocaleString(zh ? "zh-CN" : "en");
  }

  var textStyle = { fontFamily: getComputedStyle(document.body).fontFamily, color: INK };
  var charts = [];

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) {
      return;
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    option.textStyle = textStyle;
    option.animationDuration = 400;
    chart.setOption(option);
    charts.push(chart);
  }

  // Customers and AUM per tier: two panels sharing the tier axis.
  var tiers = labels.tiers;
  var tierNames = tiers.map(function (t) { return labels.names[t]; });
  function bars(field) {
    return tiers.map(function (t) {
      return { value: data.tiers[t][field], itemStyle: { color: TIER_COLORS[t] } };
    });
  }
  var categoryAxis = function (gridIndex, show) {
    return {
      type: "category", gridIndex: gridIndex, data: tierNames, inverse: true,
      axisTick: { show: false }, axisLine: { lineStyle: { color: GRID_LINE } },
      axisLabel: { show: show, color: INK }
    };
  };
  var valueAxis = function (gridIndex, formatter) {
    return {
      type: "value", gridIndex: gridIndex, splitNumber: 3, minInterval: gridIndex === 0 ? 1 : 0,
      axisLabel: { color: MUTED, formatter: formatter, hideOverlap: true },
      splitLine: { lineStyle: { color: GRID_LINE } }
    };
  };
  draw("tier-chart", {
    title: [
      { text: labels.customers, left: "2%", top: 0, textStyle: { fontSize: 13, fontWeight: 600, color: MUTED } },
      { text: labels.aum, left: "54%", top: 0, textStyle: { fontSize: 13, fontWeight: 600, color: MUTED } }
    ],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: [
      { left: "2%", width: "40%", top: 30, bottom: 8, containLabel: true },
      { left: "54%", right: "4%", top: 30, bottom: 8, containLabel: true }
    ],
    xAxis: [valueAxis(0, count), valueAxis(1, axisMoney)],
    yAxis: [categoryAxis(0, true), categoryAxis(1, true)],
    series: [
      {
        name: labels.customers, type: "bar", xAxisIndex: 0, yAxisIndex: 0, data: bars("customers"),
        barMaxWidth: 22, label: { show: true, position: "right", color: INK, formatter: function (p) { return count(p.value); } },
        tooltip: { valueFormatter: count }
      },
      {
        name: labels.aum, type: "bar", xAxisIndex: 1, yAxisIndex: 1, data: bars("aum"),
        barMaxWidth: 22, tooltip: { valueFormatter: fullMoney }
      }
    ]
  });

  // Migration matrix as a heatmap: rows last month's tier (or new), columns this month's (or closed).
  if (data.previous_month) {
    var rows = labels.rows;
    var cols = labels.cols;
    var cells = [];
    var max = 0;
    rows.forEach(function (r) {
      cols.forEach(function (c) { max = Math.max(max, data.migration[r][c]); });
    });
    rows.forEach(function (r, y) {
      cols.forEach(function (c, x) {
        var n = data.migration[r][c];
        cells.push({ value: [x, y, n], label: { color: n > max * 0.55 ? "#fff" : INK } });
      });
    });
    draw("migration-chart", {
      tooltip: {
        formatter: function (p) {
          return labels.names[rows[p.value[1]]] + " → " + labels.names[cols[p.value[0]]] + ": <b>" + count(p.value[2]) + "</b>";
        }
      },
      grid: { left: 8, right: 8, top: 8, bottom: 40, containLabel: true },
      xAxis: {
        type: "category", data: cols.map(function (c) { return labels.names[c]; }), position: "bottom",
        name: labels.this_month, nameLocation: "middle", nameGap: 28, nameTextStyle: { color: MUTED },
        axisTick: { show: false }, axisLabel: { color: INK, interval: 0, hideOverlap: false }, splitArea: { show: false }
      },
      yAxis: {
        type: "category", data: rows.map(function (r) { return labels.names[r]; }), inverse: true,
        axisTick: { show: false }, axisLabel: { color: INK }
      },
      visualMap: { show: false, min: 0, max: Math.max(max, 1), inRange: { color: ["#f2f4f7", "#9db4d6", "#1e3a64"] } },
      series: [{
        type: "heatmap", data: cells,
        label: { show: true, formatter: function (p) { return p.value[2] ? count(p.value[2]) : ""; } },
        itemStyle: { borderColor: "#fff", borderWidth: 2 },
        emphasis: { itemStyle: { borderColor: INK, borderWidth: 1 } }
      }]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
