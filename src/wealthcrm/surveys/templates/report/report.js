/* The survey report's charts, drawn with ECharts (SVG renderer: sharp in print and screenshots) from
   the JSON the report embeds in #sr-charts. The same file is inlined in the standalone report and
   served by the web app (whose content security policy forbids inline scripts). No network. */
(function () {
  "use strict";

  var INK = "#1d2939";
  var MUTED = "#667085";
  var LINE = "#eaecf0";
  var NAVY = "#2f6db5";
  var AMBER = "#dc6803";
  var RED = "#d92d20";
  var QUADRANT_COLORS = {
    keep_up_the_good_work: "#079455",
    concentrate_here: "#d92d20",
    low_priority: "#98a2b3",
    possible_overkill: "#2f6db5"
  };

  function fixed(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%";
  }

  function base() {
    return {
      animation: false,
      textStyle: { color: INK },
      tooltip: { trigger: "item", confine: true }
    };
  }

  function threshold(value) {
    return {
      silent: true,
      symbol: "none",
      lineStyle: { type: "dashed", color: MUTED },
      label: { formatter: String(value), color: MUTED },
      data: [{ yAxis: value }]
    };
  }

  var builders = {
    /* vertical bars of one value per category, highlighted below a threshold (Cronbach's α) */
    bar: function (d) {
      var option = base();
      option.grid = { left: 50, right: 40, top: 24, bottom: 24, containLabel: true };
      option.xAxis = {
        type: "category",
        data: d.categories,
        axisLabel: { interval: 0, rotate: d.categories.length > 6 ? 30 : 0 }
      };
      option.yAxis = { type: "value", min: d.min, max: d.max, splitLine: { lineStyle: { color: LINE } } };
      option.series = [
        {
          type: "bar",
          barMaxWidth: 48,
          data: d.values.map(function (v) {
            return { value: v, itemStyle: { color: v !== null && v < d.threshold ? AMBER : NAVY } };
          }),
          label: { show: true, position: "top", formatter: function (p) { return fixed(p.value, 3); } },
          markLine: threshold(d.threshold)
        }
      ];
      return option;
    },

    /* horizontal bars (means, shares of R², gaps): first category on top */
    hbar: function (d, el) {
      var option = base();
      el.style.height = Math.max(160, 34 * d.categories.length + 60) + "px";
      var show = d.percent ? percent : function (v) { return fixed(v, 2); };
      option.grid = { left: 20, right: 60, top: 16, bottom: 24, containLabel: true };
      option.yAxis = { type: "category", data: d.categories, inverse: true };
      option.xAxis = {
        type: "value",
        min: d.min,
        max: d.max,
        splitLine: { lineStyle: { color: LINE } },
        axisLabel: { formatter: d.percent ? function (v) { return Math.round(100 * v) + "%"; } : null }
      };
      option.series = [
        {
          name: d.series,
          type: "bar",
          barMaxWidth: 22,
          data: d.values.map(function (v) {
            return { value: v, itemStyle: { color: v !== null && v < 0 ? RED : NAVY } };
          }),
          label: { show: true, position: "right", formatter: function (p) { return show(p.value); } }
        }
      ];
      return option;
    },

    /* scree plot: observed eigenvalues against the random data's 95th percentile, and the line at 1 */
    scree: function (d) {
      var option = base();
      option.tooltip = { trigger: "axis", confine: true };
      option.legend = { top: 0 };
      option.grid = { left: 40, right: 30, top: 36, bottom: 24, containLabel: true };
      option.xAxis = { type: "category", data: d.categories, boundaryGap: false };
      option.yAxis = { type: "value", min: 0, splitLine: { lineStyle: { color: LINE } } };
      option.series = d.series.map(function (s, i) {
        return {
          name: s.name,
          type: "line",
          data: s.values,
          symbolSize: 6,
          lineStyle: { type: i === 0 ? "solid" : "dashed" },
          color: i === 0 ? NAVY : AMBER,
          markLine: i === 0 ? threshold(d.threshold) : undefined
        };
      });
      return option;
    },

    /* one stacked bar of shares (NPS: detractors, passives, promoters) */
    stack: function (d) {
      var option = base();
      option.legend = { bottom: 0 };
      option.grid = { left: 20, right: 20, top: 10, bottom: 40, containLabel: true };
      option.xAxis = { type: "value", min: 0, max: 1, show: false };
      option.yAxis = { type: "category", data: [d.label], axisTick: { show: false } };
      option.series = d.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          stack: "all",
          barWidth: 36,
          color: s.color,
          data: [s.value],
          label: {
            show: s.value >= 0.06,
            color: "#fff",
            formatter: function (p) { return percent(p.value); }
          },
          tooltip: { valueFormatter: percent }
        };
      });
      return option;
    },

    /* importance–performance quadrants: one point per dimension, split at the means */
    quadrant: function (d) {
      var option = base();
      var xs = d.points.map(function (p) { return p.x; }).concat([d.x_mean]);
      var ys = d.points.map(function (p) { return p.y; }).concat([d.y_mean]);
      function pad(values, step) {
        var lo = Math.min.apply(null, values);
        var hi = Math.max.apply(null, values);
        var margin = Math.max((hi - lo) * 0.15, step);
        return [Math.floor((lo - margin) / step) * step, Math.ceil((hi + margin) / step) * step];
      }
      var xr = pad(xs, 0.1);
      var yr = pad(ys, 0.05);
      option.grid = { left: 60, right: 40, top: 40, bottom: 50 };
      option.xAxis = {
        type: "value", name: d.x_name, nameLocation: "middle", nameGap: 30,
        min: Number(xr[0].toFixed(2)), max: Number(xr[1].toFixed(2)),
        splitLine: { lineStyle: { color: LINE } }
      };
      option.yAxis = {
        type: "value", name: d.y_name, nameLocation: "middle", nameGap: 44,
        min: Number(yr[0].toFixed(2)), max: Number(yr[1].toFixed(2)),
        splitLine: { lineStyle: { color: LINE } }
      };
      option.tooltip = {
        trigger: "item",
        confine: true,
        formatter: function (p) {
          return p.data.name + "<br>" + d.x_name + ": " + fixed(p.data.value[0], 2) +
            "<br>" + d.y_name + ": " + fixed(p.data.value[1], 3);
        }
      };
      function corner(text, pos) {
        var item = { type: "text", style: { text: text, fill: MUTED, font: "12px sans-serif" } };
        Object.keys(pos).forEach(function (k) { item[k] = pos[k]; });
        return item;
      }
      option.graphic = [
        corner(d.quadrants.concentrate_here, { left: 70, top: 44 }),
        corner(d.quadrants.keep_up_the_good_work, { right: 50, top: 44 }),
        corner(d.quadrants.low_priority, { left: 70, bottom: 60 }),
        corner(d.quadrants.possible_overkill, { right: 50, bottom: 60 })
      ];
      option.series = [
        {
          type: "scatter",
          symbolSize: 14,
          data: d.points.map(function (p) {
            return {
              name: p.name,
              value: [p.x, p.y],
              itemStyle: { color: QUADRANT_COLORS[p.quadrant] || NAVY }
            };
          }),
          label: { show: true, position: "right", formatter: function (p) { return p.data.name; }, color: INK },
          labelLayout: { hideOverlap: false, moveOverlap: "shiftY" },
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { type: "dashed", color: MUTED },
            label: { show: false },
            data: [{ xAxis: d.x_mean }, { yAxis: d.y_mean }]
          }
        }
      ];
      return option;
    }
  };

  function draw() {
    var source = document.getElementById("sr-charts");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var drawn = [];
    JSON.parse(source.textContent).forEach(function (chart) {
      var el = document.getElementById("sr-chart-" + chart.id);
      var build = builders[chart.kind];
      if (!el || !build) {
        return;
      }
      var option = build(chart.data, el);
      var instance = echarts.init(el, null, { renderer: "svg" });
      instance.setOption(option);
      drawn.push(instance);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (instance) { instance.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
