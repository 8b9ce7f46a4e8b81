// Replica lag over time (uPlot), from the history the console sends and each new sample.
'use strict';
(() => {
  const { $, bytes, millis } = window.pgreplUi;
  const HISTORY_MAX = 1800;
  const view = { times: [], lag: new Map(), chart: null, chartKey: '' };

  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  const unit = () => $('lag-unit').value;

  function pushHistory(sample) {
    view.times.push(sample.at / 1000);
    const replicas = sample.status.nodes.filter((n) => n.role === 'replica');
    for (const n of replicas) {
      if (!view.lag.has(n.name)) view.lag.set(n.name, { bytes: view.times.slice(1).map(() => null), ms: view.times.slice(1).map(() => null) });
    }
    const now = new Map(replicas.map((n) => [n.name, n]));
    for (const [name, series] of view.lag) {
      series.bytes.push(now.get(name)?.lagBytes ?? null);
      series.ms.push(now.get(name)?.replayLagMs ?? null);
    }
    if (view.times.length > HISTORY_MAX) {
      view.times.shift();
      for (const s of view.lag.values()) { s.bytes.shift(); s.ms.shift(); }
    }
  }

  function chartData() {
    const names = [...view.lag.keys()].sort();
    return { names, data: [view.times, ...names.map((name) => view.lag.get(name)[unit()])] };
  }

  function renderChart() {
    if (typeof uPlot === 'undefined') return;
    const { names, data } = chartData();
    const key = `${unit()}|${names.join(',')}`;
    if (view.chart && view.chartKey === key) { view.chart.setData(data); return; }
    if (view.chart) view.chart.destroy();
    view.chartKey = key;
    // Read only here and on resize: reading a size after the cards changed forces a layout.
    const width = Math.max(300, $('chart').clientWidth);
    const fmt = unit() === 'bytes' ? bytes : millis;
    view.chart = new uPlot({
      width, height: 240,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, unit() === 'bytes' ? 1024 : 100)] } },
      axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false, points: { show: false }, value: (u, v) => fmt(v) }))],
    }, data, $('chart'));
    $('chart').setAttribute('data-series', names.join(','));
  }

  window.pgreplChart = {
    /** Replaces the history with the snapshot's, less its last sample, which `push` adds again. */
    reset(history, dropLast) {
      view.times = history.times.slice();
      view.lag = new Map(history.replicas.map((r) => [r.name, { bytes: r.bytes.slice(), ms: r.ms.slice() }]));
      view.chartKey = '';
      if (dropLast) {
        view.times.pop();
        for (const s of view.lag.values()) { s.bytes.pop(); s.ms.pop(); }
      }
    },
    push: pushHistory,
    render: renderChart,
    resize: () => view.chart && view.chart.setSize({ width: Math.max(300, $('chart').clientWidth), height: 240 }),
  };
})();
