/* The service dashboard's charts, drawn with the vendored ECharts from the JSON embedded in the page
   (the same document GET /api/v1/service/dashboard returns) and the labels of the page's language. */
(function () {
  "use strict";

  var C = window.wealthcrmCharts;
  var data = C.readJson("service-data");
  var labels = C.readJson("service-labels");
  if (!data || !labels || typeof echarts === "undefined") {
    return;
  }
  var zh = labels.locale === "zh_CN";
  var INK = C.INK;
  var MUTED = C.MUTED;
  var GRID_LINE = C.GRID_LINE;
  var GOOD = "#1f7a4d";
  var BAD = "#b42318";
  var QUIET = "#98a2b3";
  var AGEING_COLORS = ["#9db4d6", "#2f6db5", "#e07b24", "#b42318"];
  var textStyle = { fontFamily: getComputedStyle(document.body).fontFamily, color: INK };
  var charts = [];

  function count(value) { return Number(value).toLocaleString(zh ? "zh-CN" : "en"); }
  function money(value) { return C.money(value, zh); }
  function axisMoney(value) { return C.axisMoney(value, zh); }
  function percent(value) { return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%"; }

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
      type: "value", name: name, nameTextStyle: { color: MUTED }, splitNumber: 4, minInterval: 1,
      axisLabel: { color: MUTED, formatter: formatter }, splitLine: { lineStyle: { color: GRID_LINE } }
    };
  }

  // SLA compliance: met / breached / within SLA as stacked bars, one category per type, tier or team.
  function compliance(id, rows, name) {
    draw(id, {
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (items) {
          var row = rows[items[0].dataIndex];
          return items[0].axisValueLabel + "<br>" + labels.compliance + ": <b>" + percent(row.compliance) + "</b><br>" +
            items.map(function (i) { return i.marker + i.seriesName + ": " + count(i.value); }).join("<br>");
        }
      },
      legend: { top: 0, textStyle: { color: INK } },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: valueAxis(count),
      yAxis: { type: "category", inverse: true, data: rows.map(name), axisLabel: { color: INK }, axisTick: { show: false } },
      series: [
        { name: labels.met, type: "bar", stack: "n", itemStyle: { color: GOOD }, data: rows.map(function (r) { return r.met; }) },
        { name: labels.breached, type: "bar", stack: "n", itemStyle: { color: BAD }, data: rows.map(function (r) { return r.breached; }) },
        { name: labels.pending, type: "bar", stack: "n", itemStyle: { color: QUIET }, data: rows.map(function (r) { return r.pending; }) }
      ]
    });
  }

  compliance("sla-type-chart", data.sla.by_type, function (r) { return labels.types[r.key] || r.key; });
  compliance("sla-tier-chart", data.sla.by_tier, function (r) { return labels.tiers[r.key] || r.key || "—"; });
  compliance("sla-team-chart", data.sla.by_team, function (r) { return r.name || r.key || labels.no_team; });

  // Backlog by type, stacked by age.
  var ageing = data.backlog.ageing;
  draw("ageing-chart", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, textStyle: { color: INK } },
    grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: ageing.map(function (a) { return labels.types[a.request_type] || a.request_type; }), axisLabel: { color: INK }, axisTick: { show: false } },
    yAxis: valueAxis(count),
    series: Object.keys(labels.ageing).map(function (code, i) {
      return {
        name: labels.ageing[code], type: "bar", stack: "age", barMaxWidth: 40, itemStyle: { color: AGEING_COLORS[i % AGEING_COLORS.length] },
        data: ageing.map(function (a) { return a.buckets[code] || 0; })
      };
    }).concat([{
      name: labels.overdue, type: "line", symbolSize: 8, lineStyle: { width: 0 }, itemStyle: { color: BAD },
      data: ageing.map(function (a) { return a.overdue; })
    }])
  });

  // Complaints a month (bars) and how many of them were resolved within the SLA (line).
  draw("complaints-chart", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, textStyle: { color: INK } },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.complaints.map(function (m) { return m.month; }), axisLabel: { color: INK }, axisTick: { show: false } },
    yAxis: valueAxis(count, labels.complaints),
    series: [
      { name: labels.opened, type: "bar", barMaxWidth: 28, itemStyle: { color: "#e07b24" }, data: data.complaints.map(function (m) { return m.opened; }) },
      { name: labels.within_sla, type: "line", itemStyle: { color: GOOD }, data: data.complaints.map(function (m) { return m.within_sla; }) }
    ]
  });

  // Root causes, most frequent first.
  if (data.root_causes.length) {
    draw("causes-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: count },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: valueAxis(count),
      yAxis: { type: "category", inverse: true, data: data.root_causes.map(function (c) { return labels.root_causes[c.root_cause] || c.root_cause; }), axisLabel: { color: INK }, axisTick: { show: false } },
      series: [{ name: labels.complaints, type: "bar", itemStyle: { color: "#5b3a8e" }, data: data.root_causes.map(function (c) { return c.complaints; }) }]
    });
  }

  // Entitlement cost (bars, left axis) and uses (line, right axis) per benefit.
  if (data.benefits.length) {
    draw("benefits-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, textStyle: { color: INK } },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.benefits.map(function (b) { return labels.benefits[b.benefit] || b.benefit; }), axisLabel: { color: INK }, axisTick: { show: false } },
      yAxis: [valueAxis(axisMoney, labels.cost), valueAxis(count, labels.uses)],
      series: [
        { name: labels.cost, type: "bar", yAxisIndex: 0, barMaxWidth: 32, itemStyle: { color: "#2f6db5" }, data: data.benefits.map(function (b) { return b.cost; }), tooltip: { valueFormatter: money } },
        { name: labels.uses, type: "line", yAxisIndex: 1, itemStyle: { color: "#e07b24" }, data: data.benefits.map(function (b) { return b.uses; }), tooltip: { valueFormatter: count } }
      ]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
