// The charts of the report pages and the home dashboard: Apache ECharts, drawn by our code.
//
// Each <div class="chart" data-chart="ID"> draws the JSON in <script type="application/json"
// id="ID">: the report's own shape ({"report", "columns", "rows"}) cut down to the columns its
// Chart hint plots, with the hint ({"kind", "x", "y", "series"}), each column's kind and label,
// the human words for key values, and for a chart over periods every period of the range
// (web/charts.py). Money comes in kopiyky and is drawn in hryvnias. Charts that arrive with
// htmx (a filter changed, a live refresh) are drawn when they arrive.
(function () {
  "use strict";
  const NUMERIC = new Set(["count", "money", "percent", "bytes", "ms", "s"]);
  // Statuses keep their meaning in every chart: green is fine, red is not, amber is a warning.
  const STATUS_COLOURS = {
    ok: "#1d7a3a", active: "#1d7a3a", silent: "#b3261e", suspended: "#b3261e",
    revoked: "#7a1610", degraded: "#c77c00", expired: "#c77c00", pending: "#8a8f98",
  };
  const drawn = new Map(); // element -> {chart, watcher}

  // Numbers as the tables write them: thin spaces between thousands, the language's decimal mark.
  function decimal(value, lang, places) {
    const text = Math.abs(value).toFixed(places);
    const [whole, part] = text.split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    const mark = lang === "uk" ? "," : ".";
    return (value < 0 && Number(text) !== 0 ? "\u2212" : "") + grouped + (part ? mark + part : "");
  }

  // Short numbers for an axis: 1,2 млн / 1.2M.
  function compact(value, lang) {
    const steps = lang === "uk"
      ? [[1e9, " млрд"], [1e6, " млн"], [1e3, " тис."]]
      : [[1e9, "B"], [1e6, "M"], [1e3, "k"]];
    for (const [size, word] of steps) {
      if (Math.abs(value) >= size) {
        const scaled = value / size;
        return decimal(scaled, lang, Number.isInteger(scaled) || Math.abs(scaled) >= 10 ? 0 : 1) + word;
      }
    }
    return decimal(value, lang, Number.isInteger(value) ? 0 : 2);
  }

  function formatter(kind, data) {
    const lang = data.lang;
    if (kind === "money") return (v) => (v == null ? "—" : decimal(v, lang, 2) + "\u00a0" + data.currency);
    if (kind === "percent") return (v) => (v == null ? "—" : decimal(v, lang, 2) + "\u00a0%");
    return (v) => (v == null ? "—" : decimal(v, lang, Number.isInteger(v) ? 0 : 1));
  }

  // A moment on a time axis, in Kyiv time: 24.11, with the hour over a short range.
  function day(ms, dateOnly) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Kyiv", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
    const date = `${parts.day}.${parts.month}`;
    return dateOnly ? date : `${date} ${parts.hour}:${parts.minute}`;
  }

  function plotted(kind, value) {
    if (value == null) return null;
    return kind === "money" ? value / 100 : value;
  }

  function words(data, column, value) {
    const known = data.values[column] || {};
    return Object.prototype.hasOwnProperty.call(known, value) ? known[value] : String(value);
  }

  function gauge(data) {
    const y = data.chart.y[0];
    const value = plotted(data.kinds[y], data.rows[0][data.columns.indexOf(y)]) || 0;
    const top = Math.max(10, Math.pow(10, Math.ceil(Math.log10(Math.max(value * 1.5, 1)))));
    return {
      series: [{
        type: "gauge", min: 0, max: top, radius: "90%",
        progress: { show: true, width: 14 }, axisLine: { lineStyle: { width: 14 } },
        detail: { formatter: (v) => decimal(v, data.lang, 0), fontSize: 26, offsetCenter: [0, "60%"] },
        title: { offsetCenter: [0, "85%"] },
        data: [{ value, name: data.labels[y] }],
      }],
    };
  }

  function pie(data) {
    const x = data.chart.x;
    const y = data.chart.y[0];
    const counting = !NUMERIC.has(data.kinds[y]);
    const slices = new Map();
    for (const row of data.rows) {
      const add = counting ? 1 : plotted(data.kinds[y], row[row.length - 1]) || 0;
      slices.set(row[0], (slices.get(row[0]) || 0) + add);
    }
    return {
      tooltip: { trigger: "item", valueFormatter: formatter(counting ? "count" : data.kinds[y], data) },
      legend: { bottom: 0 },
      series: [{
        type: "pie", radius: ["40%", "70%"], center: ["50%", "45%"],
        label: { formatter: "{b}: {c}" },
        data: [...slices].map(([value, size]) => ({
          name: words(data, x, value), value: size,
          itemStyle: STATUS_COLOURS[value] ? { color: STATUS_COLOURS[value] } : undefined,
        })),
      }],
    };
  }

  // Lines and bars: one series per value of the hint's `series` column (times each value
  // column when there are several), or one per value column; rows missing from a period
  // are zero (reports.md: a combination of keys with nothing in it has no row).
  function cartesian(data, animate, width) {
    const hint = data.chart;
    const keys = hint.series ? 2 : 1;
    const xKind = data.kinds[hint.x];
    const overTime = xKind === "instant";
    const categories = data.categories || [...new Set(data.rows.map((row) => row[0]))];
    const at = new Map(categories.map((c, i) => [c, i]));
    const groups = hint.series ? [...new Set(data.rows.map((row) => row[1]))] : [null];
    groups.sort((a, b) => String(words(data, hint.series, a)).localeCompare(String(words(data, hint.series, b))));
    const series = [];
    for (const group of groups) {
      hint.y.forEach((y, n) => {
        const kind = data.kinds[y];
        let name = data.labels[y];
        if (group !== null) name = hint.y.length > 1 ? `${words(data, hint.series, group)} — ${name}` : words(data, hint.series, group);
        const rows = data.rows.filter((row) => group === null || row[1] === group);
        let points;
        if (overTime) {
          points = rows.map((row) => [row[0], plotted(kind, row[keys + n])]);
        } else {
          points = categories.map(() => 0);
          for (const row of rows) {
            const i = at.get(row[0]);
            if (i !== undefined) points[i] = plotted(kind, row[keys + n]);
          }
        }
        const colour = hint.series && data.kinds[hint.series] === "status" ? STATUS_COLOURS[group] : undefined;
        series.push({
          name,
          itemStyle: colour ? { color: colour } : undefined,
          // wins at their moments: dots (bars on a time axis widen it far past the range)
          type: overTime ? "scatter" : hint.kind === "line" ? "line" : "bar",
          symbolSize: overTime ? 9 : undefined,
          stack: hint.kind === "stacked_bar" ? "total" : undefined,
          showSymbol: hint.kind === "line" && categories.length <= 45,
          barMaxWidth: 36,
          emphasis: { focus: "series" },
          data: points,
        });
      });
    }
    // The legend above the chart, on as many lines as its names need (scrolling past 12).
    const many = series.length > 12;
    let legendRows = series.length > 1 ? 1 : 0;
    let used = 0;
    for (const { name } of many ? [] : series) {
      const needs = 36 + name.length * 6.6;
      if (used > 0 && used + needs > width - 40) {
        legendRows += 1;
        used = 0;
      }
      used += needs;
    }
    const long = !data.range || Date.parse(data.range[1]) - Date.parse(data.range[0]) > 2 * 86400000;
    const valueKind = data.kinds[hint.y[0]];
    const yName = valueKind === "money" ? data.currency : valueKind === "percent" ? "%" : "";
    return {
      tooltip: { trigger: overTime ? "item" : "axis", confine: true, valueFormatter: formatter(valueKind, data) },
      legend: series.length > 1 ? { type: many ? "scroll" : "plain", top: 0 } : undefined,
      grid: { left: 8, right: 28, top: 32 + 22 * legendRows, bottom: 8, containLabel: true },
      xAxis: overTime
        ? {
          type: "time",
          min: data.range ? Date.parse(data.range[0]) : undefined,
          max: data.range ? Date.parse(data.range[1]) : undefined,
          axisLabel: { hideOverlap: true, formatter: (v) => day(v, long) },
        }
        : { type: "category", data: categories.map((c) => words(data, hint.x, c)), axisLabel: labels(xKind, categories.length, width) },
      yAxis: {
        type: "value", name: yName,
        axisLabel: { formatter: (v) => (valueKind === "percent" ? decimal(v, data.lang, 0) : compact(v, data.lang)) },
      },
      series,
    };
  }

  // Words on a category axis: level while they fit, slanted and cut short when they do not.
  function labels(kind, count, width) {
    if (kind !== "organizer" && kind !== "activity") return { hideOverlap: true };
    const room = Math.floor((width - 80) / Math.max(count, 1)) - 8;
    if (room >= 90) return { interval: 0, width: room, overflow: "break" };
    return { interval: 0, rotate: 30, width: 120, overflow: "truncate" };
  }

  function option(data, animate, width) {
    const timing = { animation: animate, animationDuration: 400, animationDurationUpdate: 300 };
    if (data.chart.kind === "gauge") return { ...timing, ...gauge(data) };
    if (data.chart.kind === "pie") return { ...timing, ...pie(data) };
    return { ...cartesian(data, animate, width), ...timing };
  }

  function forget() {
    for (const [element, held] of drawn) {
      if (!element.isConnected) {
        held.watcher.disconnect();
        held.chart.dispose();
        drawn.delete(element);
      }
    }
  }

  function draw(root) {
    if (!window.echarts || !root || !root.querySelectorAll) return;
    forget();
    const found = [...root.querySelectorAll("[data-chart]")];
    if (root.matches && root.matches("[data-chart]")) found.push(root);
    for (const element of found) {
      if (drawn.has(element)) continue;
      const source = document.getElementById(element.dataset.chart);
      if (!source) continue;
      const data = JSON.parse(source.textContent);
      element.replaceChildren(); // a page htmx restored from its history holds the old drawing
      const chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(option(data, !element.hasAttribute("data-live"), element.clientWidth));
      const watcher = new ResizeObserver(() => chart.resize());
      watcher.observe(element);
      drawn.set(element, { chart, watcher });
    }
  }

  document.addEventListener("htmx:load", (event) => draw(event.detail.elt));
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => draw(document));
  } else {
    draw(document);
  }
})();
