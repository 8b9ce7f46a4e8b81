// Draws the replication tree as SVG: the primary on top, each replica under its upstream, one
// row per cascade level. A tree of a handful of nodes needs no layout library; SVG keeps every
// node readable by the browser tests and by screen readers.
'use strict';
(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const BOX_W = 150, BOX_H = 58, GAP_X = 30, GAP_Y = 70, PAD = 16;

  const el = (name, attrs, text) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };

  /** Children by upstream; a node whose upstream is unknown hangs from the top row. */
  function tree(nodes) {
    const names = new Set(nodes.map((n) => n.name));
    const children = new Map();
    const roots = [];
    for (const n of nodes) {
      if (n.upstream === null || !names.has(n.upstream)) roots.push(n);
      else children.set(n.upstream, [...(children.get(n.upstream) || []), n]);
    }
    return { roots, children };
  }

  /** x in leaf slots (a parent centred over its children), y in levels. */
  function layout(nodes) {
    const { roots, children } = tree(nodes);
    const pos = new Map();
    let slot = 0;
    const place = (n, depth) => {
      const kids = children.get(n.name) || [];
      kids.forEach((k) => place(k, depth + 1));
      const x = kids.length ? (pos.get(kids[0].name).x + pos.get(kids[kids.length - 1].name).x) / 2 : slot++;
      pos.set(n.name, { x, depth });
    };
    roots.forEach((r) => place(r, 0));
    return pos;
  }

  const stateClass = (n) => {
    if (!n.running) return 'down';
    if (n.role === 'primary') return n.state === 'primary' ? 'ok' : 'bad';
    return n.state === 'streaming' ? 'ok' : n.state === 'catchup' ? 'warn' : 'bad';
  };

  function draw(svg, status) {
    const nodes = status.nodes;
    const pos = layout(nodes);
    const cols = Math.max(1, ...[...pos.values()].map((p) => p.x + 1));
    const rows = Math.max(1, ...[...pos.values()].map((p) => p.depth + 1));
    const width = PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X;
    const height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const at = (name) => {
      const p = pos.get(name);
      return { x: PAD + p.x * (BOX_W + GAP_X), y: PAD + p.depth * (BOX_H + GAP_Y) };
    };
    for (const n of nodes.filter((m) => m.upstream !== null && pos.has(m.upstream))) {
      const from = at(n.upstream), to = at(n.name);
      const x1 = from.x + BOX_W / 2, y1 = from.y + BOX_H, x2 = to.x + BOX_W / 2, y2 = to.y;
      const streaming = n.state === 'streaming';
      svg.append(el('path', { d: `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}`, class: `edge ${streaming ? 'streaming' : 'broken'} ${n.syncState === 'sync' || n.syncState === 'quorum' ? 'sync' : ''}` }));
      const label = `${n.syncState || 'async'}${streaming ? '' : ' · ' + n.state}`;
      svg.append(el('text', { x: (x1 + x2) / 2 + 6, y: (y1 + y2) / 2 + 4, class: 'edge-label' }, label));
    }
    for (const n of nodes) {
      const { x, y } = at(n.name);
      const g = el('g', { class: `node ${stateClass(n)}`, 'data-node': n.name, 'data-role': n.role, transform: `translate(${x},${y})` });
      g.append(el('rect', { width: BOX_W, height: BOX_H, rx: 8 }));
      const leader = status.leader !== undefined && status.leader === n.name;
      g.append(el('text', { x: 10, y: 22, class: 'name' }, `${n.name}${leader ? ' ★' : ''}`));
      g.append(el('text', { x: 10, y: 42, class: 'role' }, `${n.role} · ${n.state}`));
      if (n.agent !== undefined) {
        const healthy = n.agent !== null && n.agent.healthy;
        g.append(el('circle', { cx: BOX_W - 14, cy: 16, r: 6, class: `agent ${healthy ? 'ok' : 'bad'}` }));
        g.append(el('title', {}, `agent: ${n.agent === null ? 'none' : (healthy ? 'healthy' : 'unhealthy') + (n.agent.reason ? ' — ' + n.agent.reason : '')}`));
      }
      svg.append(g);
    }
    svg.style.maxWidth = `${width}px`;
  }

  /** Everything draw() shows, as one string: the page redraws only when it changes. */
  function key(status) {
    const agent = (a) => (a === undefined ? '' : a === null ? 'none' : `${a.healthy}:${a.reason || ''}`);
    return JSON.stringify([status.leader, status.nodes.map((n) => [n.name, n.role, n.state, n.running, n.upstream, n.syncState, agent(n.agent)])]);
  }

  window.pgreplTopology = { draw, key };
})();
