/* Customer 360's charts, drawn with the vendored ECharts from the JSON embedded in the page:
   AUM by asset class per month (stacked), tier per month (step line), P(loss) per month. */
(function () {
  "use strict";

  var ASSET_COLORS = {
    demand_deposit: "#9db4d6",
    time_deposit: "#2f6db5",
    wmp: "#e07b24",
    fund: "#5b3a8e",
    insurance: "#1f7a4d",
    bond: "#98a2b3",
    precious_metal: "#d4a72c",
    custody: "#b42318"
  };
  var C = window.wealthcrmCharts;
  var INK = C.INK;
  var MUTED = C.MUTED;
  var GRID_LINE = C.GRID_LINE;
  var readJson = C.readJson;

  var data = readJson("customer-data");
  var labels = readJson("customer-labels");
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

  function percent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
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

  function monthAxis(months) {
    return {
      type: "category", data: months, boundaryGap: true,
      axisTick: { show: false }, axisLine: { lineStyle: { color: GRID_LINE } },
      axisLabel: { color: MUTED, hideOverlap: true }
    };
  }

  // AUM by asset class: stacked bars per month.
  var aum = data.aum;
  if (aum.months.length) {
    draw("aum-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: fullMoney },
      legend: { bottom: 0, icon: "roundRect", itemWidth: 10, itemHeight: 10, textStyle: { color: INK } },
      grid: { left: 8, right: 12, top: 12, bottom: 36, containLabel: true },
      xAxis: monthAxis(aum.months),
      yAxis: {
        type: "value", splitNumber: 4,
        axisLabel: { color: MUTED, formatter: axisMoney }, splitLine: { lineStyle: { color: GRID_LINE } }
      },
      series: aum.classes.map(function (c) {
        return {
          name: labels.asset_names[c] || c, type: "bar", stack: "aum", barMaxWidth: 36,
          itemStyle: { color: ASSET_COLORS[c] }, data: aum.series[c]
        };
      })
    });
  }

  // Tier per month: a step line on the tier ladder.
  var history = data.history;
  if (history.months.length) {
    var tierNames = labels.tiers.map(function (t) { return labels.tier_names[t]; });
    draw("tier-chart", {
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var p = items[0];
          return p.axisValue + "<br>" + labels.tier + ": <b>" + tierNames[p.value] + "</b>";
        }
      },
      grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
      xAxis: monthAxis(history.months),
      yAxis: {
        type: "category", data: tierNames, boundaryGap: false,
        axisTick: { show: false }, axisLine: { show: false },
        axisLabel: { color: INK }, splitLine: { show: true, lineStyle: { color: GRID_LINE } }
      },
      series: [{
        type: "line", step: "middle", symbolSize: 8,
        lineStyle: { color: "#e07b24", width: 3 }, itemStyle: { color: "#e07b24" },
        data: history.tiers.map(function (t) { return labels.tiers.indexOf(t); })
      }]
    });

    // P(loss) per month (null where the customer was not scored); the axis tops at a round quarter.
    var highest = Math.max.apply(null, history.p_loss.map(function (p) { return p || 0; }));
    var top = Math.max(0.5, Math.ceil(highest * 4) / 4);
    draw("risk-chart", {
      tooltip: { trigger: "axis", valueFormatter: percent },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      title: { text: labels.p_loss, left: 0, top: 0, textStyle: { fontSize: 12, fontWeight: 600, color: MUTED } },
      xAxis: monthAxis(history.months),
      yAxis: {
        type: "value", min: 0, max: top, interval: top / 2, axisLabel: { color: MUTED, formatter: function (v) { return Math.round(v * 100) + "%"; } },
        splitLine: { lineStyle: { color: GRID_LINE } }
      },
      series: [{
        name: labels.p_loss, type: "line", connectNulls: false, symbolSize: 7,
        lineStyle: { color: "#b42318", width: 2 }, itemStyle: { color: "#b42318" },
        areaStyle: { color: "rgba(180, 35, 24, 0.08)" },
        data: history.p_loss
      }]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
