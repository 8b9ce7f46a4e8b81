// The console page: one live stream (server-sent events) from the console that served it, and
// POSTs to it for actions. It talks to no other server. The cards, the chart and the topology are
// drawn by their own scripts (cards.js, chart.js, topology.js), loaded before this one.
'use strict';
(() => {
  const { $, millis, text, setText, setHidden } = window.pgreplUi;
  const view = { ha: false, topologyKey: '', warnings: null };

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
    window.pgreplChart.push(sample);
    renderTop(sample);
    window.pgreplCards.render(sample, sample.slotCapBytes, act);
    window.pgreplChart.render();
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
    $('lag-unit').addEventListener('change', () => window.pgreplChart.render());
    window.addEventListener('resize', () => window.pgreplChart.resize());
  }

  // ---- live stream ---------------------------------------------------------------------------
  function connect() {
    const source = new EventSource('/api/stream');
    const live = (state, label) => { $('live').setAttribute('data-live', state); $('live').textContent = label; };
    source.addEventListener('snapshot', (e) => {
      const snap = JSON.parse(e.data);
      view.ha = snap.actions.haPauseResume;
      // The latest sample is in the history already: onSample adds it again.
      window.pgreplChart.reset(snap.history, Boolean(snap.latest));
      $('events').replaceChildren();
      snap.events.forEach(addEvent);
      if (snap.latest) onSample(snap.latest);
      live('live', 'live');
    });
    source.addEventListener('sample', (e) => onSample(JSON.parse(e.data)));
    source.addEventListener('event', (e) => addEvent(JSON.parse(e.data)));
    source.onerror = () => live('down', 'disconnected, retrying…');
  }

  wireActions();
  connect();
})();
