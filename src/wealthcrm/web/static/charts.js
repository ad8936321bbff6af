/* What every page's charts share: the palette, reading the JSON a page embeds (the CSP forbids inline
   script), and amounts as bank staff read them (¥1,234,567 in English, 123.46 万元 in Chinese). */
(function () {
  "use strict";

  function money(value, zh) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (zh) {
      return Math.abs(value) >= 1e4
        ? (value / 1e4).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " 万元"
        : Math.round(value).toLocaleString("zh-CN") + " 元";
    }
    return "¥" + Math.round(value).toLocaleString("en");
  }

  function axisMoney(value, zh) {
    if (value === 0) {
      return "0";
    }
    if (zh) {
      return (value / 1e4).toLocaleString("zh-CN", { maximumFractionDigits: 0 }) + "万";
    }
    if (Math.abs(value) >= 1e6) {
      return "¥" + (value / 1e6).toLocaleString("en", { maximumFractionDigits: 1 }) + "M";
    }
    if (Math.abs(value) >= 1e3) {
      return "¥" + (value / 1e3).toLocaleString("en", { maximumFractionDigits: 0 }) + "k";
    }
    return "¥" + value;
  }

  window.wealthcrmCharts = {
    TIER_COLORS: {
      mass: "#98a2b3",
      gold: "#d4a72c",
      sunflower: "#e07b24",
      diamond: "#2f6db5",
      private: "#5b3a8e"
    },
    INK: "#1d2939",
    MUTED: "#667085",
    GRID_LINE: "#eaecf0",
    readJson: function (id) {
      var el = document.getElementById(id);
      return el ? JSON.parse(el.textContent) : null;
    },
    money: money,
    axisMoney: axisMoney
  };
})();
