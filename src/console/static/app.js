// The console page: one live stream (server-sent events) from the console that served it, and
// POSTs to it for actions. It talks to no other server.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const HISTORY_MAX = 1800;
  const view = { latest: null, slotCapBytes: 0, ha: false, times: [], lag: new Map(), chart: null, chartKey: '', topologyKey: '', warnings: null };

  const bytes = (n) => {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  };
  const millis = (ms) => (ms === null || ms === undefined ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const duration = (ms) => {
    const s = Math.floor(ms / 1000);
    if (s < 120) return `${s} s`;
    if (s < 7200) return `${Math.floor(s / 60)} min`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  };
  const text = (tag, content, attrs = {}) => {
    const node = document.createElement(tag);
    if (content !== undefined) node.textContent = content;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };

  // ---- cards -------------------------------------------------------------------------------
  // A sample a second rewrites nothing that did not change: every DOM write costs the browser a
  // style, layout and paint pass, and the console's cost to the machine is mostly the page's.
  const FIELDS = [
    ['role', 'role'], ['state', 'state'], ['upstream', 'upstream'], ['address', 'address'], ['timeline', 'timeline'],
    ['lsn', 'current LSN'], ['replay-lsn', 'replayed LSN'], ['lag-bytes', 'lag (bytes)'], ['lag-time', 'lag (time)'],
    ['sync', 'sync state'], ['uptime', 'seen up for'], ['agent', 'agent'],
  ];
  const cards = new Map(); // node name -> { el, fields, slotRows, slotNames, role }

  const setText = (el, value) => { if (el.textContent !== value) el.textContent = value; };
  const setAttr = (el, name, value) => {
    if (value === null) { if (el.hasAttribute(name)) el.removeAttribute(name); } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  };
  const setHidden = (el, hidden) => { if (el.hidden !== hidden) el.hidden = hidden; };

  function card(name) {
    let c = cards.get(name);
    if (c) return c;
    const el = text('article', undefined, { class: 'card', 'data-node': name });
    el.append(text('h3', name));
    const dl = text('dl');
    const fields = {};
    for (const [key, label] of FIELDS) {
      const dt = text('dt', label, { 'data-for': key });
      const dd = text('dd', '–', { 'data-field': key });
      dl.append(dt, dd);
      fields[key] = { dt, dd, value: '–', raw: null };
    }
    el.append(dl, text('div', undefined, { class: 'slots' }), text('div', undefined, { class: 'row card-actions' }));
    $('cards').append(el);
    c = { el, fields, slotRows: new Map(), slotNames: null };
    cards.set(name, c);
    return c;
  }

  function setField(c, key, value, raw) {
    const f = c.fields[key];
    const r = raw === undefined || raw === null ? null : String(raw);
    if (f.value !== value) {
      f.dd.textContent = value;
      const shown = value !== null && value !== undefined && value !== '';
      setHidden(f.dd, !shown);
      setHidden(f.dt, !shown);
      f.value = value;
    }
    if (f.raw !== r) {
      setAttr(f.dd, 'data-value', r);
      f.raw = r;
    }
  }

  function cardActions(node, n) {
    const box = node.querySelector('.card-actions');
    if (box.getAttribute('data-role') === n.role) return;
    box.setAttribute('data-role', n.role);
    box.replaceChildren();
    if (n.role !== 'replica') return;
    const over = text('button', `Switch over to ${n.name}`, { type: 'button', 'data-action': 'switchover' });
    over.addEventListener('click', () => act('switchover', { to: n.name }, `Switch over: ${n.name} becomes the primary, the current primary follows it. Writes pause for a moment.`));
    const remove = text('button', `Remove ${n.name}`, { type: 'button', class: 'danger', 'data-action': 'remove-replica' });
    remove.addEventListener('click', () => act('remove-replica', { name: n.name }, `Remove ${n.name}: stop it, drop its slot and delete its data directory.`));
    box.append(over, remove);
  }

  /** One row per slot, made when the set of slots (or whether there is a cap) changes, then updated in place. */
  function slots(c, n) {
    const cap = view.slotCapBytes;
    const names = `${cap > 0}|${n.slots.map((s) => s.name).join(',')}`;
    if (c.slotNames !== names) {
      c.slotNames = names;
      c.slotRows.clear();
      const rows = n.slots.map((s) => {
        const row = text('div', undefined, { class: 'slot', 'data-slot': s.name });
        const parts = { head: text('span'), meter: cap > 0 ? text('meter', undefined, { min: 0, optimum: 0 }) : null, note: text('span', undefined, { class: 'muted' }) };
        row.append(...[parts.head, parts.meter, parts.note].filter(Boolean));
        c.slotRows.set(s.name, parts);
        return row;
      });
      c.el.querySelector('.slots').replaceChildren(...rows);
    }
    for (const s of n.slots) {
      const parts = c.slotRows.get(s.name);
      setText(parts.head, `slot ${s.name} · ${s.active ? 'active' : 'inactive'} · ${s.walStatus || '–'}`);
      // A slot whose retained WAL is unknown shows no meter, as when the rows were rebuilt each time.
      if (parts.meter) {
        setHidden(parts.meter, s.retainedBytes === null);
        for (const [k, v] of [['max', cap], ['low', cap * 0.5], ['high', cap * 0.8], ['value', Math.min(s.retainedBytes ?? 0, cap)]]) setAttr(parts.meter, k, String(v));
      }
      setText(parts.note, `retains ${bytes(s.retainedBytes)} of ${bytes(cap)}`);
    }
  }

  function renderCards(sample) {
    const names = new Set(sample.status.nodes.map((n) => n.name));
    for (const [name, c] of cards) if (!names.has(name)) { c.el.remove(); cards.delete(name); }
    for (const n of sample.status.nodes) {
      const c = card(n.name);
      const node = c.el;
      setAttr(node, 'data-role', n.role);
      setAttr(node, 'data-state', n.state);
      const cls = `card ${n.role} ${n.running ? '' : 'down'}`;
      if (node.className !== cls) node.className = cls;
      setField(c, 'role', n.role);
      setField(c, 'state', n.state);
      setField(c, 'upstream', n.upstream || '');
      setField(c, 'address', `${n.host}:${n.port}`);
      setField(c, 'timeline', n.timeline === null ? '–' : String(n.timeline));
      setText(c.fields.lsn.dt, n.role === 'primary' ? 'current LSN' : 'received LSN');
      setField(c, 'lsn', n.lsn || '–');
      setField(c, 'replay-lsn', n.role === 'primary' ? '' : n.replayLsn || '–');
      setField(c, 'lag-bytes', n.role === 'primary' ? '' : bytes(n.lagBytes), n.lagBytes);
      setField(c, 'lag-time', n.role === 'primary' ? '' : millis(n.replayLagMs), n.replayLagMs);
      setField(c, 'sync', n.role === 'primary' ? '' : n.syncState || 'async');
      const since = sample.seenUpSince[n.name];
      setField(c, 'uptime', since === undefined ? 'down' : duration(sample.at - since));
      setField(c, 'agent', n.agent === undefined ? '' : n.agent === null ? 'none' : `${n.agent.healthy ? 'healthy' : 'UNHEALTHY'}${n.agent.reason ? ' — ' + n.agent.reason : ''}`);
      slots(c, n);
      cardActions(node, n);
    }
    // Keep the status order, moving cards only when it changed (a move lays the whole grid out again).
    const order = sample.status.nodes.map((n) => n.name);
    const shown = [...$('cards').children].map((el) => el.getAttribute('data-node'));
    if (shown.join('\n') !== order.join('\n')) for (const name of order) $('cards').append(cards.get(name).el);
  }

  // ---- chart -------------------------------------------------------------------------------
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

  // ---- topology, warnings, events --------------------------------------------------------------
  function renderTop(sample) {
    const s = sample.status;
    setText($('dir'), s.dir);
    // Redrawn only when something it draws changed: most samples change LSNs and lag only.
    const drawn = window.pgreplTopology.key(s);
    if (view.topologyKey !== drawn) {
      window.pgreplTopology.draw($('topology'), s);
      view.topologyKey = drawn;
    }
    const ha = s.paused !== undefined;
    setHidden($('ha-summary'), !ha);
    if (ha) {
      const lease = s.ha && s.ha.error ? `DCS unreachable: ${s.ha.error}` : s.lease ? `${s.lease.holder} holds the leader lease (TTL ${millis(s.lease.ttlMs)}${typeof s.lease.expiresInMs === 'number' ? `, runs out in ${millis(s.lease.expiresInMs)} unless renewed` : ''})` : 'no node holds the leader lease';
      setText($('ha-summary'), `HA on${s.ha ? ` (${s.ha.dcs})` : ''} · ${lease}${s.paused ? ' · automatic failover PAUSED' : ''}`);
    }
    setHidden($('ha-actions'), !(ha && view.ha));
    const warnings = s.warnings.join('\n');
    if (view.warnings !== warnings) {
      $('warnings').replaceChildren(...s.warnings.map((w) => text('li', w)));
      view.warnings = warnings;
    }
    const from = $('add-from');
    const want = s.nodes.map((n) => n.name).join(',');
    if (from.getAttribute('data-nodes') !== want) {
      const chosen = from.value;
      from.replaceChildren(text('option', 'the primary', { value: '' }), ...s.nodes.map((n) => text('option', n.name, { value: n.name })));
      from.value = s.nodes.some((n) => n.name === chosen) ? chosen : '';
      from.setAttribute('data-nodes', want);
    }
  }

  function addEvent(event) {
    const li = text('li', undefined, { 'data-kind': event.kind });
    li.append(text('time', new Date(event.at).toLocaleTimeString(), { datetime: new Date(event.at).toISOString() }), text('span', event.message));
    $('events').prepend(li);
    while ($('events').children.length > 300) $('events').lastElementChild.remove();
  }

  function onSample(sample) {
    view.latest = sample;
    view.slotCapBytes = sample.slotCapBytes;
    pushHistory(sample);
    renderTop(sample);
    renderCards(sample);
    renderChart();
  }

  // ---- actions -------------------------------------------------------------------------------
  function confirmAction(message) {
    return new Promise((resolve) => {
      const dialog = $('confirm');
      $('confirm-text').textContent = message;
      const done = (ok) => { dialog.close(); $('confirm-ok').onclick = null; $('confirm-cancel').onclick = null; resolve(ok); };
      $('confirm-ok').onclick = () => done(true);
      $('confirm-cancel').onclick = () => done(false);
      dialog.showModal();
    });
  }

  async function act(name, body, message) {
    if (!(await confirmAction(message))) return;
    const token = $('token').value.trim();
    const result = $('action-result');
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`; // in a header: never in a URL, never in a log
    let outcome = 'refused', shown;
    try {
      const res = await fetch(`/api/actions/${name}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const answer = await res.json();
      if (res.status === 202) { outcome = 'accepted'; shown = `started: ${answer.accepted} (follow it in Events)`; }
      else shown = `refused: ${answer.error.message}`;
    } catch (error) {
      shown = `failed: ${error.message}`;
    }
    result.textContent = shown;
    result.setAttribute('data-outcome', outcome);
  }

  function wireActions() {
    $('token').value = sessionStorage.getItem('pgrepl-token') || '';
    $('token-form').addEventListener('submit', (e) => e.preventDefault());
    $('token').addEventListener('change', () => sessionStorage.setItem('pgrepl-token', $('token').value.trim()));
    $('add-replica').addEventListener('click', () => {
      const body = {};
      const name = $('add-name').value.trim();
      if (name) body.name = name;
      if ($('add-from').value) body.from = $('add-from').value;
      if ($('add-sync').checked) body.sync = true;
      act('add-replica', body, `Add replica ${name || '(next name)'} cloned from ${body.from || 'the primary'}${body.sync ? ', synchronous' : ''}.`);
    });
    $('pause').addEventListener('click', () => act('pause', {}, 'Pause automatic failover: agents keep watching but will not promote.'));
    $('resume').addEventListener('click', () => act('resume', {}, 'Resume automatic failover.'));
    $('lag-unit').addEventListener('change', renderChart);
    window.addEventListener('resize', () => view.chart && view.chart.setSize({ width: Math.max(300, $('chart').clientWidth), height: 240 }));
  }

  // ---- live stream ---------------------------------------------------------------------------
  function connect() {
    const source = new EventSource('/api/stream');
    const live = (state, label) => { $('live').setAttribute('data-live', state); $('live').textContent = label; };
    source.addEventListener('snapshot', (e) => {
      const snap = JSON.parse(e.data);
      view.ha = snap.actions.haPauseResume;
      view.times = snap.history.times.slice();
      view.lag = new Map(snap.history.replicas.map((r) => [r.name, { bytes: r.bytes.slice(), ms: r.ms.slice() }]));
      view.chartKey = '';
      $('events').replaceChildren();
      snap.events.forEach(addEvent);
      if (snap.latest) {
        view.times.pop(); // the latest sample is in the history already: onSample adds it again
        for (const s of view.lag.values()) { s.bytes.pop(); s.ms.pop(); }
        onSample(snap.latest);
      }
      live('live', 'live');
    });
    source.addEventListener('sample', (e) => onSample(JSON.parse(e.data)));
    source.addEventListener('event', (e) => addEvent(JSON.parse(e.data)));
    source.onerror = () => live('down', 'disconnected, retrying…');
  }

  wireActions();
  connect();
})();
