/* The cockpit's engine: filters, API reads with the session cookie, charts, 查看数据 tables,
   downloads, drill-down crumbs and the 数据来源 line. Boards (boards.js) only describe panels.
   Every text from the data is put in the page with textContent (never innerHTML), and chart
   tooltips render as rich text on the canvas, so a name holding HTML or script stays text. */
'use strict';
(function () {
  const MAX_PAGES = 20;
  const sources = new Map();
  const Cockpit = { state: { month: '', city: '', chain: '', drill: {} }, timings: {} };
  window.Cockpit = Cockpit;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  Cockpit.num = function (v) { return v === null || v === undefined || v === '' ? null : Number(v); };
  Cockpit.round = function (v, d) { if (v === null) return null; const f = Math.pow(10, d === undefined ? 2 : d); return Math.round(v * f) / f; };
  Cockpit.sum = function (rows, key) {
    let total = 0, seen = false;
    rows.forEach((r) => { const v = Cockpit.num(r[key]); if (v !== null) { total += v; seen = true; } });
    return seen ? Cockpit.round(total, 2) : null;
  };
  Cockpit.group = function (rows, key) {
    const out = new Map();
    rows.forEach((r) => { const k = r[key]; if (!out.has(k)) out.set(k, []); out.get(k).push(r); });
    return out;
  };
  Cockpit.pct = function (cur, base) { return cur === null || base === null || base === 0 ? null : Cockpit.round((cur - base) / base * 100, 2); };
  Cockpit.fmt = function (v) { return v === null || v === undefined ? '—' : Number(v).toLocaleString('zh-CN', { maximumFractionDigits: 2 }); };
  Cockpit.month = function (m, delta) {
    const [y, mo] = m.split('-').map(Number); const t = y * 12 + (mo - 1) + delta;
    return `${Math.floor(t / 12)}-${String(t % 12 + 1).padStart(2, '0')}`;
  };
  Cockpit.day = function (m) { return `${m}-01`; };

  /* Every page of one API read (JSON, the session cookie); 401 goes back to the login page. */
  Cockpit.api = async function (path, params) {
    const rows = [];
    let first = null, cursor = null;
    for (let i = 0; i < MAX_PAGES; i++) {
      const q = new URLSearchParams();
      Object.entries(params || {}).forEach(([k, v]) => { if (v !== '' && v !== null && v !== undefined) q.set(k, v); });
      q.set('page_size', '1000');
      if (cursor) q.set('cursor', cursor);
      const answer = await fetch(`/v1/${path}?${q}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (answer.status === 401) { location.assign('/cockpit/login?next=' + encodeURIComponent(location.pathname)); throw new Error('未登录'); }
      const body = await answer.json();
      if (!answer.ok) throw new Error(`${path}: ${body.error ? body.error.message : answer.status}`);
      rows.push(...body.rows);
      first = first || body;
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    sources.set(first.dataset, { version: first.version, asOf: first.as_of });
    return { rows, masked: first.masked || {}, withheld: first.withheld || [], dataset: first.dataset };
  };
  Cockpit.hidden = function (read, column) { return read.withheld.includes(column) || column in read.masked; };

  function crumbs(board) {
    const box = document.getElementById('crumbs');
    box.replaceChildren();
    const path = board.crumbs ? board.crumbs(Cockpit.state) : [];
    path.forEach((c, i) => {
      box.append(el('span', { class: 'crumb' }, (i ? ' › ' : '') + c.label));
      if (c.undo) {
        const b = el('button', { type: 'button', 'data-crumb': String(i) }, '返回');
        b.addEventListener('click', () => { c.undo(Cockpit.state); update(board); });
        box.append(b);
      }
    });
  }

  function renderTable(panel, table) {
    const t = panel.table;
    t.replaceChildren();
    const head = el('tr');
    table.columns.forEach((c) => head.append(el('th', {}, c.label)));
    t.append(el('thead')); t.tHead.append(head);
    const body = el('tbody');
    table.rows.forEach((r) => {
      const tr = el('tr');
      table.columns.forEach((c) => {
        const v = r[c.key];
        const td = el('td', { 'data-key': c.key }, c.num ? Cockpit.fmt(v) : (v === null || v === undefined ? '—' : v));
        if (c.num) td.setAttribute('data-value', v === null || v === undefined ? '' : String(v));
        if (v === null || v === undefined) td.className = 'masked';
        tr.append(td);
      });
      body.append(tr);
    });
    t.append(body);
  }

  function downloads(panel, dl) {
    panel.downloads.replaceChildren();
    (dl || []).forEach((d) => {
      const q = new URLSearchParams();
      Object.entries(d.params || {}).forEach(([k, v]) => { if (v !== '' && v !== null && v !== undefined) q.set(k, v); });
      ['csv', 'xlsx'].forEach((fmt) => {
        const a = el('a', { href: `/cockpit/export/${d.path}.${fmt}?${q}`, download: '', 'data-format': fmt }, `下载 ${fmt.toUpperCase()}${d.label ? '（' + d.label + '）' : ''}`);
        panel.downloads.append(a);
      });
    });
  }

  async function update(board) {
    const started = performance.now();
    const status = document.getElementById('status');
    status.textContent = '加载中…';
    sources.clear();
    crumbs(board);
    try {
      const ctx = { state: Cockpit.state, api: Cockpit.api };
      const results = await Promise.all(board.panels.map((p) => p.render(ctx)));
      results.forEach((res, i) => {
        const panel = board.panels[i];
        panel.dom.hidden = !res;
        if (!res) return;
        if (panel.chart) {
          if (res.option) {
            const option = Object.assign({ animation: false, tooltip: { renderMode: 'richText', trigger: 'item' } }, res.option);
            panel.chart.setOption(option, true);
          } else {
            panel.chart.clear();
          }
        }
        panel.note.textContent = res.note || '';
        renderTable(panel, res.table);
        downloads(panel, res.downloads);
      });
      const line = [...sources.entries()].map(([name, s]) => `${name}（Delta 版本 ${s.version}，最新月份 ${s.asOf ? s.asOf.slice(0, 7) : '—'}）`);
      document.getElementById('sources').textContent = '数据来源：' + line.join('；');
      status.textContent = '已更新';
      document.body.setAttribute('data-ready', String(++Cockpit.updates));
    } catch (err) {
      status.textContent = '加载失败：' + err.message;
      document.body.setAttribute('data-failed', err.message);
    }
    Cockpit.timings.last = performance.now() - started;
  }
  Cockpit.updates = 0;
  Cockpit.refresh = function () { return update(Cockpit.board); };
  Cockpit.drill = function (key, value, label) { Cockpit.state.drill[key] = { value, label }; return update(Cockpit.board); };

  async function options(board) {
    const [regions, chains, range] = await Promise.all([
      Cockpit.api('gold/dim_region', {}),
      Cockpit.api('gold/dim_chain', {}),
      board.months ? board.months() : null,
    ]);
    const city = document.getElementById('f-city');
    regions.rows.filter((r) => r.region_level === 'city' && r.is_current)
      .sort((a, b) => (a.region_code < b.region_code ? -1 : 1))
      .forEach((r) => city.append(el('option', { value: r.region_code }, r.region_name)));
    const chain = document.getElementById('f-chain');
    const seen = new Set();
    chains.rows.forEach((r) => { if (!seen.has(r.chain_code)) { seen.add(r.chain_code); chain.append(el('option', { value: r.chain_code }, r.chain_name_zh)); } });
    Cockpit.chainNames = new Map(chains.rows.map((r) => [r.chain_code, r.chain_name_zh]));
    const month = document.getElementById('f-month');
    const [lo, hi] = range || [null, null];
    if (lo && hi) {
      for (let m = hi; m >= lo; m = Cockpit.month(m, -1)) month.append(el('option', { value: m }, m.replace('-', '年') + '月'));
      Cockpit.state.month = hi;
    }
    if (board.requireChain && !Cockpit.state.chain) {
      Cockpit.state.chain = chain.options[1] ? chain.options[1].value : '';
      chain.options[0].disabled = true;
    }
    chain.value = Cockpit.state.chain;
    if (board.noCityFilter) { city.disabled = true; city.title = '本页数据不按地市划分'; }
    if (board.noChainFilter) { chain.disabled = true; chain.title = '本页数据不按产业链划分'; }
  }

  /* The first and latest month of a dataset with a period column. */
  Cockpit.monthRange = async function (path, column) {
    const one = async (sort) => {
      const r = await fetch(`/v1/${path}?sort=${sort}${column}&page_size=1`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (r.status === 401) { location.assign('/cockpit/login?next=' + encodeURIComponent(location.pathname)); throw new Error('未登录'); }
      const body = await r.json();
      return body.rows.length ? String(body.rows[0][column]).slice(0, 7) : null;
    };
    return Promise.all([one(''), one('-')]);
  };

  Cockpit.define = async function (board) {
    Cockpit.board = board;
    const started = performance.now();
    const box = document.getElementById('panels');
    board.panels.forEach((p) => {
      const dom = el('section', { class: 'panel', id: 'panel-' + p.id });
      dom.append(el('h2', {}, p.title));
      const chart = p.chart === false ? null : el('div', { class: 'chart', id: 'chart-' + p.id });
      if (chart) dom.append(chart);
      const note = el('p', { class: 'note' });
      const dls = el('div', { class: 'downloads' });
      const details = el('details', { class: 'data' });
      details.append(el('summary', {}, '查看数据'));
      const table = el('table', { id: 'table-' + p.id });
      details.append(table);
      dom.append(note, dls, details);
      box.append(dom);
      p.dom = dom; p.note = note; p.downloads = dls; p.table = table;
      if (chart) {
        p.chart = echarts.init(chart, null, { renderer: 'canvas', locale: 'ZH' });
        if (p.click) p.chart.on('click', (params) => p.click(params, Cockpit.state));
      }
    });
    await options(board);
    ['month', 'city', 'chain'].forEach((key) => {
      document.getElementById('f-' + key).addEventListener('change', (ev) => {
        Cockpit.state[key] = ev.target.value;
        Cockpit.state.drill = {};
        update(board);
      });
    });
    await update(board);
    Cockpit.timings.firstPaint = performance.now() - started;
    window.addEventListener('resize', () => board.panels.forEach((p) => p.chart && p.chart.resize()));
  };
  /* A drill that also moves a filter (city): the select follows. */
  Cockpit.setFilter = function (key, value) {
    Cockpit.state[key] = value;
    document.getElementById('f-' + key).value = value;
    return update(Cockpit.board);
  };
})();
