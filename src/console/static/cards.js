// The node cards: one per node, made once and then updated field by field.
'use strict';
(() => {
  const { $, bytes, millis, duration, text, setText, setAttr, setHidden } = window.pgreplUi;
  let slotCapBytes = 0;
  let act = () => {};

  // ---- cards -------------------------------------------------------------------------------
  // A sample a second rewrites nothing that did not change: every DOM write costs the browser a
  // style, layout and paint pass, and the console's cost to the machine is mostly the page's.
  const FIELDS = [
    ['role', 'role'], ['state', 'state'], ['upstream', 'upstream'], ['address', 'address'], ['timeline', 'timeline'],
    ['lsn', 'current LSN'], ['replay-lsn', 'replayed LSN'], ['lag-bytes', 'lag (bytes)'], ['lag-time', 'lag (time)'],
    ['sync', 'sync state'], ['uptime', 'seen up for'], ['agent', 'agent'],
  ];
  const cards = new Map(); // node name -> { el, fields, slotRows, slotNames, role }

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
    const cap = slotCapBytes;
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

  window.pgreplCards = {
    /** `onAction(name, body, message)` runs a confirmed action; `capBytes` is the slots' WAL cap. */
    render(sample, capBytes, onAction) {
      slotCapBytes = capBytes;
      act = onAction;
      renderCards(sample);
    },
  };
})();
