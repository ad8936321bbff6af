/* Draws the monthly report's charts (ECharts) from the JSON in #report-charts. The same file is inlined in
   the standalone HTML report and served to the web page, so both draw the same charts. */
(function () {
  "use strict";
  var COLORS = ["#14284b", "#c8962e", "#2f6db5", "#1f7a4d", "#b42318", "#5b3a8e"];
  // report.css's fonts, the standalone file's embedded CJK glyphs first (canvas text needs them named)
  var FONT = '"WealthcrmCJK", -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", ' +
    '"Noto Sans CJK SC", "WenQuanYi Micro Hei", Roboto, Arial, sans-serif';

  function money(value, zh) {
    if (value === null || value === undefined) { return "–"; }
    if (zh) {
      return Math.abs(value) >= 1e4
        ? (value / 1e4).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " 万元"
        : Math.round(value).toLocaleString("zh-CN") + " 元";
    }
    return "¥" + Math.round(value).toLocaleString("en");
  }

  function axis(value, unit, zh) {
    if (unit === "pct") { return Math.round(value * 100) + "%"; }
    if (unit !== "cny" || value === 0) { return String(value); }
    if (zh) { return (value / 1e4).toLocaleString("zh-CN", { maximumFractionDigits: 0 }) + "万"; }
    if (Math.abs(value) >= 1e6) { return "¥" + (value / 1e6).toLocaleString("en", { maximumFractionDigits: 1 }) + "M"; }
    return "¥" + (value / 1e3).toLocaleString("en", { maximumFractionDigits: 0 }) + "k";
  }

  function label(value, unit, zh) {
    if (value === null || value === undefined) { return "–"; }
    if (unit === "pct") { return (value * 100).toFixed(1) + "%"; }
    if (unit === "cny") { return money(value, zh); }
    return value.toLocaleString(zh ? "zh-CN" : "en");
  }

  function draw(chart, zh) {
    var el = document.getElementById("chart-" + chart.key);
    if (!el || typeof echarts === "undefined") { return; }
    var stacked = chart.kind === "stack";
    var type = chart.kind === "line" ? "line" : "bar";
    var instance = echarts.init(el, null, { renderer: "canvas" });
    instance.setOption({
      animation: false,
      color: COLORS,
      textStyle: { fontFamily: FONT },
      grid: { left: 64, right: 16, top: chart.series.length > 1 ? 36 : 28, bottom: 40 },
      legend: chart.series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return label(v, chart.unit, zh); }
      },
      xAxis: { type: "category", data: chart.categories, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: {
        type: "value",
        axisLabel: { formatter: function (v) { return axis(v, chart.unit, zh); } }
      },
      series: chart.series.map(function (s) {
        return {
          name: s.name,
          type: type,
          stack: stacked ? "all" : undefined,
          data: s.values,
          barMaxWidth: 48,
          label: { show: type === "bar" && chart.series.length === 1, position: "top",
                   formatter: function (p) { return label(p.value, chart.unit, zh); } }
        };
      })
    });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function start() {
    var data = document.getElementById("report-charts");
    if (!data) { return; }
    var payload = JSON.parse(data.textContent);
    var zh = payload.lang === "zh_CN";
    var ready = document.fonts && document.fonts.load ? document.fonts.load('12px "WealthcrmCJK"', "汉") : null;
    var go = function () { payload.charts.forEach(function (c) { draw(c, zh); }); };
    if (ready) { ready.then(go, go); } else { go(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
