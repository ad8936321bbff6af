/* The Branch page's charts, drawn with the vendored ECharts from the JSON embedded in the page (the
   same document GET /api/v1/branch returns) and the labels of the page's language. */
(function () {
  "use strict";

  var C = window.wealthcrmCharts;
  var data = C.readJson("branch-data");
  var labels = C.readJson("branch-labels");
  if (!data || !labels || typeof echarts === "undefined") {
    return;
  }
  var zh = labels.locale === "zh_CN";
  var INK = C.INK;
  var MUTED = C.MUTED;
  var GRID_LINE = C.GRID_LINE;
  var PALETTE = ["#2f6db5", "#e07b24", "#5b3a8e", "#2e9d6a", "#c2410c", "#0e7490", "#a16207", "#be185d",
    "#4d7c0f", "#7c3aed", "#475467", "#b91c1c"];
  var textStyle = { fontFamily: getComputedStyle(document.body).fontFamily, color: INK };
  var charts = [];

  function money(value) { return C.money(value, zh); }
  function axisMoney(value) { return C.axisMoney(value, zh); }
  function count(value) { return Number(value).toLocaleString(zh ? "zh-CN" : "en"); }
  function percent(value) { return value === null ? "—" : (value * 100).toFixed(1) + "%"; }

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

  function valueAxis(formatter, name) {
    return {
      type: "value", name: name, nameTextStyle: { color: MUTED }, splitNumber: 4,
      axisLabel: { color: MUTED, formatter: formatter }, splitLine: { lineStyle: { color: GRID_LINE } }
    };
  }

  // Customer losses (bars, left axis) and CNY lost to asset loss (line, right axis) by month.
  var months = data.trends.map(function (t) { return t.month; });
  draw("trend-chart", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, textStyle: { color: INK } },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: months, axisLabel: { color: INK }, axisTick: { show: false } },
    yAxis: [valueAxis(count, labels.customer_loss), valueAxis(axisMoney, labels.asset_loss)],
    series: [
      {
        name: labels.customer_loss, type: "bar", yAxisIndex: 0, barMaxWidth: 24, itemStyle: { color: "#b42318" },
        data: data.trends.map(function (t) { return t.customer_loss; }), tooltip: { valueFormatter: count }
      },
      {
        name: labels.asset_loss, type: "line", yAxisIndex: 1, smooth: false, itemStyle: { color: "#e07b24" },
        data: data.trends.map(function (t) { return t.asset_loss_amount; }), tooltip: { valueFormatter: money }
      }
    ]
  });

  // Alerts by type: open now and raised in the last 3 months.
  if (data.alerts.length) {
    var types = data.alerts.map(function (a) { return labels.alerts[a.alert_type] || a.alert_type; });
    draw("alerts-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, textStyle: { color: INK } },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: valueAxis(count),
      yAxis: { type: "category", data: types, inverse: true, axisLabel: { color: INK }, axisTick: { show: false } },
      series: [
        { name: labels.open, type: "bar", itemStyle: { color: "#b42318" }, data: data.alerts.map(function (a) { return a.open; }) },
        { name: labels.recent, type: "bar", itemStyle: { color: "#98a2b3" }, data: data.alerts.map(function (a) { return a.recent; }) }
      ]
    });
  }

  // Kaplan–Meier retention curves as step lines, one chart per grouping.
  Object.keys(data.retention).forEach(function (by) {
    var curves = data.retention[by];
    draw("retention-chart-" + by, {
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { type: "scroll", top: 0, textStyle: { color: INK } },
      grid: { left: 8, right: 16, top: 36, bottom: 28, containLabel: true },
      xAxis: {
        type: "value", name: labels.months_since, nameLocation: "middle", nameGap: 24, minInterval: 1,
        nameTextStyle: { color: MUTED }, axisLabel: { color: MUTED }, splitLine: { show: false }
      },
      yAxis: valueAxis(function (v) { return Math.round(v * 100) + "%"; }, labels.retained),
      series: curves.map(function (c, i) {
        var name = by === "tier" ? (labels.names[c.label] || c.label) : c.name;
        return {
          name: name, type: "line", step: "end", showSymbol: false,
          itemStyle: { color: by === "tier" ? C.TIER_COLORS[c.label] : PALETTE[i % PALETTE.length] },
          data: c.months.map(function (m, j) { return [m, c.survival[j]]; })
        };
      })
    });
  });

  // Value × potential: customers per cell as a heatmap.
  if (data.value_potential) {
    var grid = data.value_potential;
    var cells = [];
    var max = 0;
    grid.rows.forEach(function (tier, y) {
      grid.columns.forEach(function (p, x) {
        var b = grid.cells[tier][p];
        max = Math.max(max, b.customers);
        cells.push({ value: [x, y, b.customers], aum: b.aum });
      });
    });
    draw("grid-chart", {
      tooltip: {
        formatter: function (p) {
          return labels.names[grid.rows[p.value[1]]] + " · " + labels.potential[grid.columns[p.value[0]]] +
            "<br>" + labels.customers + ": <b>" + count(p.value[2]) + "</b><br>" + labels.aum + ": " + money(p.data.aum);
        }
      },
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: grid.columns.map(function (p) { return labels.potential[p]; }), axisTick: { show: false }, axisLabel: { color: INK } },
      yAxis: { type: "category", data: grid.rows.map(function (t) { return labels.names[t]; }), inverse: true, axisTick: { show: false }, axisLabel: { color: INK } },
      visualMap: { show: false, min: 0, max: Math.max(max, 1), inRange: { color: ["#f2f4f7", "#9db4d6", "#1e3a64"] } },
      series: [{
        type: "heatmap", data: cells,
        label: { show: true, formatter: function (p) { return p.value[2] ? count(p.value[2]) : ""; } },
        itemStyle: { borderColor: "#fff", borderWidth: 2 }
      }]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
