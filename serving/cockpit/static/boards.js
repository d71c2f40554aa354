/* The five dashboards: what each panel reads (API products) and how it is drawn. Numbers are
   sums of the rows the data service returned for the selection, rounded to 2 decimals; a 重要
   value the person's grants do not cover arrives null and is left out (shown as —). */
'use strict';
(function () {
  const C = window.Cockpit;
  const ECO = 'theme/economic_operation_month';
  const DEV = 'topic/device_hours_month';
  const CONN = 'theme/equipment_connectivity_month';
  const CAP = 'topic/capacity_sharing_month';
  const MATCH = 'topic/cnc_idle_capacity_match';
  const NODE = 'topic/chain_map_node';
  const RISK = 'topic/chain_supplier_risk';
  const CHAIN_MONTH = 'topic/chain_output_month';
  const SCORE = 'quality/dq_scorecard';
  const ISSUE = 'quality/dq_issue';
  const LINKS = ['上游', '中游', '下游'];

  const scope = (s) => ({ city_code: s.city, chain_code: s.chain });
  const window12 = (s) => ({ period__gte: C.day(C.month(s.month, -11)), period__lte: C.day(s.month) });
  const months12 = (s) => Array.from({ length: 12 }, (_, i) => C.month(s.month, i - 11));
  const bar = (names, series, horizontal) => ({
    grid: { left: horizontal ? 120 : 60, right: 20, top: 40, bottom: 40 },
    legend: { top: 0 },
    xAxis: horizontal ? { type: 'value' } : { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
    yAxis: horizontal ? { type: 'category', data: names, inverse: true } : { type: 'value' },
    series: series.map((s) => Object.assign({ type: 'bar' }, s)),
  });
  const hiddenNote = (read, cols) => cols.some((c) => C.hidden(read, c)) ? '部分重要数据不在您的授权范围内，已隐去（—）。' : '';

  /* ---------------- 经济运行监测 ---------------- */
  function ecoParams(s) {
    const p = scope(s);
    if (s.drill.division) p.division_code = s.drill.division.value;
    return p;
  }
  const ecoCache = {};
  function ecoRead(ctx) {
    const s = ctx.state;
    const p = Object.assign(ecoParams(s), { period__gte: C.day(C.month(s.month, -12)), period__lte: C.day(s.month) });
    const key = JSON.stringify(p);
    if (!ecoCache[key]) ecoCache[key] = ctx.api(ECO, p);
    return ecoCache[key];
  }
  const economy = {
    months: () => C.monthRange(ECO, 'period'),
    crumbs: (s) => {
      const out = [{ label: '全省' }];
      if (s.city) out.push({ label: document.getElementById('f-city').selectedOptions[0].textContent, undo: (st) => { st.drill = {}; st.city = ''; document.getElementById('f-city').value = ''; } });
      if (s.drill.division) out.push({ label: s.drill.division.label, undo: (st) => { delete st.drill.division; } });
      return out;
    },
    panels: [
      {
        id: 'overview', title: '总体运行（工业总产值、营业收入、利润总额，万元）',
        render: async (ctx) => {
          const read = await ecoRead(ctx);
          const by = C.group(read.rows, 'period');
          const total = (m, k) => C.sum(by.get(C.day(m)) || [], k);
          const rows = months12(ctx.state).map((m) => ({
            month: m, gross_output: total(m, 'gross_output'), revenue: total(m, 'revenue'), total_profit: total(m, 'total_profit'),
            output_mom_pct: C.pct(total(m, 'gross_output'), total(C.month(m, -1), 'gross_output')),
            output_yoy_pct: C.pct(total(m, 'gross_output'), total(C.month(m, -12), 'gross_output')),
            revenue_yoy_pct: C.pct(total(m, 'revenue'), total(C.month(m, -12), 'revenue')),
          }));
          const keys = [['gross_output', '工业总产值'], ['revenue', '营业收入'], ['total_profit', '利润总额']];
          return {
            option: {
              tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 80, right: 20, top: 40, bottom: 30 },
              xAxis: { type: 'category', data: rows.map((r) => r.month) }, yAxis: { type: 'value' },
              series: keys.map(([k, name]) => ({ name, type: 'line', data: rows.map((r) => r[k]) })),
            },
            note: hiddenNote(read, ['gross_output', 'revenue', 'total_profit']) + '指标口径：环比 = 本月 ÷ 上月 − 1；同比 = 本月 ÷ 上年同月 − 1（指标库 indicator_definition）。',
            table: {
              columns: [{ key: 'month', label: '月份' }, { key: 'gross_output', label: '工业总产值(万元)', num: true },
                { key: 'revenue', label: '营业收入(万元)', num: true }, { key: 'total_profit', label: '利润总额(万元)', num: true },
                { key: 'output_mom_pct', label: '产值环比(%)', num: true }, { key: 'output_yoy_pct', label: '产值同比(%)', num: true },
                { key: 'revenue_yoy_pct', label: '营收同比(%)', num: true }],
              rows,
            },
            downloads: [{ path: ECO, params: Object.assign(ecoParams(ctx.state), window12(ctx.state)) }],
          };
        },
      },
      {
        id: 'cities', title: '地市排名（当月工业总产值，点击下钻）',
        click: (p, s) => { if (p.data && p.data.code) C.setFilter('city', p.data.code); },
        render: async (ctx) => {
          const read = await ecoRead(ctx);
          const m = C.day(ctx.state.month), ly = C.day(C.month(ctx.state.month, -12));
          const cur = read.rows.filter((r) => r.period === m), last = C.group(read.rows.filter((r) => r.period === ly), 'city_code');
          const rows = [...C.group(cur, 'city_code').entries()].map(([code, rs]) => ({
            city_code: code, city_name: rs[0].city_name, gross_output: C.sum(rs, 'gross_output'), revenue: C.sum(rs, 'revenue'),
            total_profit: C.sum(rs, 'total_profit'), output_yoy_pct: C.pct(C.sum(rs, 'gross_output'), C.sum(last.get(code) || [], 'gross_output')),
          })).sort((a, b) => (b.gross_output ?? -Infinity) - (a.gross_output ?? -Infinity) || (a.city_code < b.city_code ? -1 : 1));
          const shown = rows.filter((r) => r.gross_output !== null);
          return {
            option: bar(shown.map((r) => r.city_name), [{ name: '工业总产值(万元)', data: shown.map((r) => ({ value: r.gross_output, code: r.city_code })) }], true),
            note: hiddenNote(read, ['gross_output']),
            table: { columns: [{ key: 'city_name', label: '地市' }, { key: 'gross_output', label: '工业总产值(万元)', num: true }, { key: 'revenue', label: '营业收入(万元)', num: true },
              { key: 'total_profit', label: '利润总额(万元)', num: true }, { key: 'output_yoy_pct', label: '产值同比(%)', num: true }], rows },
            downloads: [{ path: ECO, params: Object.assign(ecoParams(ctx.state), { period: m }) }],
          };
        },
      },
      {
        id: 'divisions', title: '行业大类构成（当月工业总产值，点击下钻）',
        click: (p) => { if (p.data && p.data.code) C.drill('division', p.data.code, p.name); },
        render: async (ctx) => {
          const read = await ecoRead(ctx);
          const cur = read.rows.filter((r) => r.period === C.day(ctx.state.month));
          const rows = [...C.group(cur, 'division_code').entries()].map(([code, rs]) => ({
            division_code: code, division_name: rs[0].division_name || code, gross_output: C.sum(rs, 'gross_output'),
            revenue: C.sum(rs, 'revenue'), total_profit: C.sum(rs, 'total_profit'), enterprise_count: C.sum(rs, 'enterprise_count'),
          })).sort((a, b) => (b.gross_output ?? -Infinity) - (a.gross_output ?? -Infinity) || (a.division_code < b.division_code ? -1 : 1));
          const shown = rows.filter((r) => r.gross_output !== null);
          return {
            option: bar(shown.map((r) => r.division_name), [{ name: '工业总产值(万元)', data: shown.map((r) => ({ value: r.gross_output, code: r.division_code })) }], true),
            note: hiddenNote(read, ['gross_output']),
            table: { columns: [{ key: 'division_name', label: '行业大类' }, { key: 'enterprise_count', label: '规上企业数', num: true },
              { key: 'gross_output', label: '工业总产值(万元)', num: true }, { key: 'revenue', label: '营业收入(万元)', num: true }, { key: 'total_profit', label: '利润总额(万元)', num: true }], rows },
            downloads: [{ path: ECO, params: Object.assign(ecoParams(ctx.state), { period: C.day(ctx.state.month) }) }],
          };
        },
      },
      {
        id: 'chains', title: '产业链构成（当月工业总产值）',
        render: async (ctx) => {
          const read = await ecoRead(ctx);
          const cur = read.rows.filter((r) => r.period === C.day(ctx.state.month));
          const rows = [...C.group(cur, 'chain_code').entries()].map(([code, rs]) => ({
            chain_code: code, chain_name_zh: rs[0].chain_name_zh, gross_output: C.sum(rs, 'gross_output'), revenue: C.sum(rs, 'revenue'),
          })).sort((a, b) => (a.chain_code < b.chain_code ? -1 : 1));
          const shown = rows.filter((r) => r.gross_output !== null);
          return {
            option: bar(shown.map((r) => r.chain_name_zh), [{ name: '工业总产值(万元)', data: shown.map((r) => r.gross_output) }], true),
            note: hiddenNote(read, ['gross_output']),
            table: { columns: [{ key: 'chain_name_zh', label: '产业链' }, { key: 'gross_output', label: '工业总产值(万元)', num: true }, { key: 'revenue', label: '营业收入(万元)', num: true }], rows },
            downloads: [{ path: ECO, params: Object.assign(ecoParams(ctx.state), { period: C.day(ctx.state.month) }) }],
          };
        },
      },
    ],
  };

  /* ---------------- 设备联网 ---------------- */
  const HOURS = [['run_hours', '运行'], ['idle_hours', '待机'], ['fault_hours', '故障']];
  function hoursBy(rows, key, label) {
    return [...C.group(rows, key).entries()].map(([code, rs]) => {
      const r = { code, name: rs[0][label] || code, devices_reporting: C.sum(rs, 'devices_reporting') };
      HOURS.forEach(([k]) => { r[k] = C.sum(rs, k); });
      return r;
    }).sort((a, b) => (a.code < b.code ? -1 : 1));
  }
  const hoursTable = (first) => ({ columns: [{ key: 'name', label: first }, { key: 'devices_reporting', label: '在线设备数', num: true },
    { key: 'run_hours', label: '运行时长(小时)', num: true }, { key: 'idle_hours', label: '待机时长(小时)', num: true }, { key: 'fault_hours', label: '故障时长(小时)', num: true }] });
  const hoursChart = (rows) => bar(rows.map((r) => r.name), HOURS.map(([k, n]) => ({ name: n, stack: 'h', data: rows.map((r) => ({ value: r[k], code: r.code })) })));
  const devices = {
    months: () => C.monthRange(DEV, 'period'),
    crumbs: (s) => [{ label: '全省' }].concat(s.city ? [{ label: document.getElementById('f-city').selectedOptions[0].textContent, undo: (st) => { st.city = ''; document.getElementById('f-city').value = ''; } }] : []),
    panels: [
      {
        id: 'connected', title: '联网设备数（近12个月）',
        render: async (ctx) => {
          const read = await ctx.api(CONN, Object.assign(scope(ctx.state), window12(ctx.state)));
          const by = C.group(read.rows, 'period');
          const rows = months12(ctx.state).map((m) => ({ month: m, devices_known: C.sum(by.get(C.day(m)) || [], 'devices_known'), devices_connected: C.sum(by.get(C.day(m)) || [], 'devices_connected') }));
          return {
            option: { tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 20, top: 40, bottom: 30 }, xAxis: { type: 'category', data: rows.map((r) => r.month) }, yAxis: { type: 'value' },
              series: [{ name: '接入设备数', type: 'line', data: rows.map((r) => r.devices_known) }, { name: '当月在线设备数', type: 'bar', data: rows.map((r) => r.devices_connected) }] },
            table: { columns: [{ key: 'month', label: '月份' }, { key: 'devices_known', label: '接入设备数', num: true }, { key: 'devices_connected', label: '当月在线设备数', num: true }], rows },
            downloads: [{ path: CONN, params: Object.assign(scope(ctx.state), window12(ctx.state)) }],
          };
        },
      },
      {
        id: 'city_hours', title: '按地市：运行、待机、故障时长（当月，点击下钻）',
        click: (p) => { if (p.data && p.data.code) C.setFilter('city', p.data.code); },
        render: async (ctx) => {
          const read = await ctx.api(DEV, Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }));
          const rows = hoursBy(read.rows, 'city_code', 'city_name');
          return { option: hoursChart(rows), table: Object.assign(hoursTable('地市'), { rows }), downloads: [{ path: DEV, params: Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }) }] };
        },
      },
      {
        id: 'chain_hours', title: '按产业链：运行、待机、故障时长（当月）',
        render: async (ctx) => {
          const read = await ctx.api(DEV, Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }));
          const rows = hoursBy(read.rows, 'chain_code', 'chain_name_zh');
          return { option: hoursChart(rows), table: Object.assign(hoursTable('产业链'), { rows }), downloads: [{ path: DEV, params: Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }) }] };
        },
      },
    ],
  };

  /* ---------------- 产能共享 ---------------- */
  const capacity = {
    months: () => C.monthRange(CAP, 'period'),
    crumbs: (s) => {
      const out = [{ label: s.city ? document.getElementById('f-city').selectedOptions[0].textContent : '全省' }];
      if (s.drill.month) out.push({ label: s.drill.month.label + ' 撮合清单', undo: (st) => { delete st.drill.month; } });
      return out;
    },
    panels: [
      {
        id: 'supply_demand', title: '闲置产能与在手订单（近12个月，点击月份查看撮合清单）',
        click: (p) => { if (p.name) C.drill('month', p.name, p.name); },
        render: async (ctx) => {
          const read = await ctx.api(CAP, Object.assign(scope(ctx.state), window12(ctx.state)));
          const by = C.group(read.rows, 'period');
          const rows = months12(ctx.state).map((m) => {
            const rs = by.get(C.day(m)) || [];
            return { month: m, offer_count: C.sum(rs, 'offer_count'), idle_hours_offered: C.sum(rs, 'idle_hours_offered'), open_order_count: C.sum(rs, 'open_order_count'), open_order_amount: C.sum(rs, 'open_order_amount') };
          });
          return {
            option: { tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 60, top: 40, bottom: 30 }, xAxis: { type: 'category', data: rows.map((r) => r.month) },
              yAxis: [{ type: 'value', name: '工时' }, { type: 'value', name: '订单数' }],
              series: [{ name: '可共享工时(小时)', type: 'bar', data: rows.map((r) => r.idle_hours_offered) }, { name: '在手订单数', type: 'line', yAxisIndex: 1, data: rows.map((r) => r.open_order_count) }] },
            note: hiddenNote(read, ['open_order_amount']),
            table: { columns: [{ key: 'month', label: '月份' }, { key: 'offer_count', label: '产能发布数', num: true }, { key: 'idle_hours_offered', label: '可共享工时(小时)', num: true },
              { key: 'open_order_count', label: '在手订单数', num: true }, { key: 'open_order_amount', label: '在手订单金额(万元)', num: true }], rows },
            downloads: [{ path: CAP, params: Object.assign(scope(ctx.state), window12(ctx.state)) }],
          };
        },
      },
      {
        id: 'utilisation', title: '联网设备利用率（当月，按地市：运行时长占上报时长）',
        render: async (ctx) => {
          const read = await ctx.api(DEV, Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }));
          const rows = [...C.group(read.rows, 'city_code').entries()].map(([code, rs]) => {
            const run = C.sum(rs, 'run_hours'), all = ['run_hours', 'idle_hours', 'fault_hours', 'offline_hours'].reduce((t, k) => t + (C.sum(rs, k) || 0), 0);
            return { code, name: rs[0].city_name || code, run_hours: run, utilisation_pct: all > 0 ? C.round(run / all * 100, 2) : null };
          }).sort((a, b) => (a.code < b.code ? -1 : 1));
          return {
            option: bar(rows.map((r) => r.name), [{ name: '设备利用率(%)', data: rows.map((r) => r.utilisation_pct) }]),
            table: { columns: [{ key: 'name', label: '地市' }, { key: 'run_hours', label: '运行时长(小时)', num: true }, { key: 'utilisation_pct', label: '设备利用率(%)', num: true }], rows },
            downloads: [{ path: DEV, params: Object.assign(scope(ctx.state), { period: C.day(ctx.state.month) }) }],
          };
        },
      },
      {
        id: 'matches', title: '数控机床闲置产能撮合（推荐第1位，按可共享工时）',
        render: async (ctx) => {
          const m = ctx.state.drill.month ? ctx.state.drill.month.value : ctx.state.month;
          const read = await ctx.api(MATCH, { period: C.day(m) });
          const rows = read.rows.filter((r) => r.offer_rank === 1).map((r) => ({
            order_id: r.order_id, product_category: r.product_category, offer_enterprise_name: r.offer_enterprise_name, equipment_type: r.equipment_type,
            idle_hours: C.num(r.idle_hours), amount: C.num(r.amount),
          })).sort((a, b) => (b.idle_hours - a.idle_hours) || (a.order_id < b.order_id ? -1 : 1));
          const top = rows.slice(0, 10);
          return {
            option: bar(top.map((r) => r.order_id), [{ name: '推荐产能可共享工时(小时/月)', data: top.map((r) => r.idle_hours) }], true),
            note: `${m} 的在手订单与推荐产能（不按地市划分）。` + hiddenNote(read, ['amount']),
            table: { columns: [{ key: 'order_id', label: '订单编号' }, { key: 'product_category', label: '产品类别' }, { key: 'offer_enterprise_name', label: '推荐产能企业' },
              { key: 'equipment_type', label: '设备类型' }, { key: 'idle_hours', label: '可共享工时(小时/月)', num: true }, { key: 'amount', label: '订单金额(万元)', num: true }], rows },
            downloads: [{ path: MATCH, params: { period: C.day(m) } }],
          };
        },
      },
    ],
  };

  /* ---------------- 产业链图谱 ---------------- */
  const chain = {
    requireChain: true,
    months: () => C.monthRange(CHAIN_MONTH, 'period'),
    crumbs: (s) => {
      const out = [{ label: C.chainNames ? C.chainNames.get(s.chain) || s.chain : s.chain }];
      if (s.drill.link) out.push({ label: s.drill.link.label, undo: (st) => { delete st.drill.link; } });
      return out;
    },
    panels: [
      {
        id: 'graph', title: '产业链图谱（环节与链主候选，点击环节下钻）',
        click: (p) => { if (p.dataType === 'node' && LINKS.includes(p.name)) C.drill('link', p.name, p.name); },
        render: async (ctx) => {
          const read = await ctx.api(NODE, scope(ctx.state));
          const byLink = C.group(read.rows, 'link');
          const rows = LINKS.map((l) => {
            const rs = byLink.get(l) || [];
            const leaders = rs.filter((r) => r.is_leader_candidate === true).map((r) => r.enterprise_name);
            return { link: l, node_count: rs.length, gross_output_12m: C.sum(rs, 'gross_output_12m'), leader_candidates: leaders.join('、') || null, leaders };
          });
          const name = C.chainNames.get(ctx.state.chain) || ctx.state.chain;
          const nodes = [{ name, symbolSize: 60, category: 0, x: 300, y: 40 }];
          const links = [];
          rows.forEach((r, i) => {
            nodes.push({ name: r.link, value: r.node_count, symbolSize: 30 + Math.min(30, r.node_count), category: 1, x: 100 + i * 200, y: 160 });
            links.push({ source: name, target: r.link });
            if (i) links.push({ source: LINKS[i - 1], target: r.link, lineStyle: { type: 'dashed' } });
            r.leaders.forEach((e, j) => { nodes.push({ name: `${e}（${r.link}）`, symbolSize: 16, category: 2, x: 40 + i * 200 + j * 40, y: 280 + (j % 2) * 30 }); links.push({ source: r.link, target: `${e}（${r.link}）` }); });
          });
          return {
            option: { legend: { top: 0, data: ['产业链', '环节', '链主候选'] }, series: [{ type: 'graph', layout: 'none', roam: true, label: { show: true }, edgeSymbol: ['none', 'arrow'],
              categories: [{ name: '产业链' }, { name: '环节' }, { name: '链主候选' }], data: nodes, links }] },
            note: hiddenNote(read, ['gross_output_12m', 'is_leader_candidate']),
            table: { columns: [{ key: 'link', label: '环节' }, { key: 'node_count', label: '企业节点数', num: true }, { key: 'gross_output_12m', label: '近12个月产值(万元)', num: true }, { key: 'leader_candidates', label: '链主候选' }], rows },
            downloads: [{ path: NODE, params: scope(ctx.state) }],
          };
        },
      },
      {
        id: 'link_output', title: '分环节产值（近12个月，万元）',
        render: async (ctx) => {
          const read = await ctx.api(NODE, scope(ctx.state));
          const byLink = C.group(read.rows, 'link');
          const rows = LINKS.map((l) => ({ link: l, gross_output_12m: C.sum(byLink.get(l) || [], 'gross_output_12m'), reporting: (byLink.get(l) || []).filter((r) => C.num(r.gross_output_12m) !== null).length }));
          return {
            option: bar(rows.map((r) => r.link), [{ name: '近12个月工业总产值(万元)', data: rows.map((r) => r.gross_output_12m) }]),
            note: hiddenNote(read, ['gross_output_12m']),
            table: { columns: [{ key: 'link', label: '环节' }, { key: 'reporting', label: '有产值企业数', num: true }, { key: 'gross_output_12m', label: '近12个月工业总产值(万元)', num: true }], rows },
            downloads: [{ path: NODE, params: scope(ctx.state) }],
          };
        },
      },
      {
        id: 'risks', title: '单一来源供应风险（按环节）',
        render: async (ctx) => {
          const read = await ctx.api(RISK, { chain_code: ctx.state.chain });
          const rows = read.rows.map((r) => ({ buyer_name: r.buyer_name, material: r.material, link: r.link, supplier_name: r.supplier_name, supplier_count: r.supplier_count, top_supplier_share: C.num(r.top_supplier_share), risk_level: r.risk_level }))
            .sort((a, b) => (a.risk_level < b.risk_level ? -1 : a.risk_level > b.risk_level ? 1 : a.buyer_name < b.buyer_name ? -1 : 1));
          const count = (l, lvl) => rows.filter((r) => r.link === l && r.risk_level === lvl).length;
          return {
            option: bar(LINKS, [{ name: '高（单一来源）', stack: 'r', data: LINKS.map((l) => count(l, '高')) }, { name: '中（高度集中）', stack: 'r', data: LINKS.map((l) => count(l, '中')) }]),
            note: '最新供需调查；不按地市划分。' + hiddenNote(read, ['top_supplier_share']),
            table: { columns: [{ key: 'buyer_name', label: '需方企业' }, { key: 'material', label: '物料' }, { key: 'link', label: '环节' }, { key: 'supplier_name', label: '主要供方' },
              { key: 'supplier_count', label: '供应商数', num: true }, { key: 'top_supplier_share', label: '主要供方份额', num: true }, { key: 'risk_level', label: '风险等级' }], rows },
            downloads: [{ path: RISK, params: { chain_code: ctx.state.chain } }],
          };
        },
      },
      {
        id: 'trend', title: '产业链产值走势（近12个月，企业数少于5的月份不公布）',
        render: async (ctx) => {
          const read = await ctx.api(CHAIN_MONTH, Object.assign({ chain_code: ctx.state.chain }, window12(ctx.state)));
          const by = new Map(read.rows.map((r) => [r.period, r]));
          const rows = months12(ctx.state).map((m) => { const r = by.get(C.day(m)) || {}; return { month: m, enterprise_count: C.num(r.enterprise_count), gross_output: C.num(r.gross_output), gross_output_yoy_pct: C.num(r.gross_output_yoy_pct) }; });
          return {
            option: { tooltip: { trigger: 'axis' }, grid: { left: 80, right: 20, top: 30, bottom: 30 }, xAxis: { type: 'category', data: rows.map((r) => r.month) }, yAxis: { type: 'value' }, series: [{ name: '工业总产值(万元)', type: 'line', data: rows.map((r) => r.gross_output) }] },
            note: '全省口径（不按地市划分）。',
            table: { columns: [{ key: 'month', label: '月份' }, { key: 'enterprise_count', label: '规上企业数', num: true }, { key: 'gross_output', label: '工业总产值(万元)', num: true }, { key: 'gross_output_yoy_pct', label: '同比(%)', num: true }], rows },
            downloads: [{ path: CHAIN_MONTH, params: Object.assign({ chain_code: ctx.state.chain }, window12(ctx.state)) }],
          };
        },
      },
      {
        id: 'enterprises', title: '环节企业（下钻）', chart: false,
        render: async (ctx) => {
          if (!ctx.state.drill.link) return null;
          const read = await ctx.api(NODE, scope(ctx.state));
          const inLink = read.rows.filter((r) => r.link === ctx.state.drill.link.value);
          // only the enterprises a grant covers: their 重要 values arrive in clear
          const covered = inLink.filter((r) => r.is_leader_candidate !== null && r.is_leader_candidate !== undefined);
          const rows = covered.map((r) => ({ enterprise_name: r.enterprise_name, city_code: r.city_code, membership_basis: r.membership_basis, gross_output_12m: C.num(r.gross_output_12m), network_degree: r.network_degree }))
            .sort((a, b) => (b.gross_output_12m ?? -1) - (a.gross_output_12m ?? -1) || (a.enterprise_name < b.enterprise_name ? -1 : 1));
          const withheld = inLink.length - covered.length;
          return {
            note: `${ctx.state.drill.link.value}：${covered.length} 家企业` + (withheld ? `；另有 ${withheld} 家不在您的授权范围内，不予显示。` : '。'),
            table: { columns: [{ key: 'enterprise_name', label: '企业名称' }, { key: 'city_code', label: '地市代码' }, { key: 'membership_basis', label: '入链依据' },
              { key: 'gross_output_12m', label: '近12个月产值(万元)', num: true }, { key: 'network_degree', label: '供应网络度数', num: true }], rows },
            downloads: [{ path: NODE, params: scope(ctx.state) }],
          };
        },
      },
    ],
  };

  /* ---------------- 数据质量 ---------------- */
  const mean = (rs, k) => { const v = rs.map((r) => C.num(r[k])).filter((x) => x !== null); return v.length ? C.round(v.reduce((a, b) => a + b, 0) / v.length, 2) : null; };
  const quality = {
    noCityFilter: true, noChainFilter: true,
    months: () => C.monthRange(SCORE, 'period'),
    crumbs: (s) => [{ label: '全部数据集' }].concat(s.drill.dataset ? [{ label: s.drill.dataset.label, undo: (st) => { delete st.drill.dataset; } }] : []),
    panels: [
      {
        id: 'dimensions', title: '按质量维度（当月平均分）',
        render: async (ctx) => {
          const p = { period: C.day(ctx.state.month) };
          if (ctx.state.drill.dataset) p.dataset = ctx.state.drill.dataset.value;
          const read = await ctx.api(SCORE, p);
          const rows = [...C.group(read.rows, 'dimension').entries()].map(([d, rs]) => ({ dimension: d, score: mean(rs, 'score'), datasets: rs.length })).sort((a, b) => (a.dimension < b.dimension ? -1 : 1));
          return { option: bar(rows.map((r) => r.dimension), [{ name: '平均分', data: rows.map((r) => r.score) }]),
            table: { columns: [{ key: 'dimension', label: '维度' }, { key: 'datasets', label: '数据集数', num: true }, { key: 'score', label: '平均分', num: true }], rows },
            downloads: [{ path: SCORE, params: p }] };
        },
      },
      {
        id: 'datasets', title: '按数据集（当月平均分最低的15个，点击下钻）',
        click: (p) => { if (p.name) C.drill('dataset', p.name, p.name); },
        render: async (ctx) => {
          const read = await ctx.api(SCORE, { period: C.day(ctx.state.month) });
          const rows = [...C.group(read.rows, 'dataset').entries()].map(([d, rs]) => ({ dataset: d, score: mean(rs, 'score') }))
            .sort((a, b) => (a.score - b.score) || (a.dataset < b.dataset ? -1 : 1));
          const low = rows.slice(0, 15);
          return { option: bar(low.map((r) => r.dataset), [{ name: '平均分', data: low.map((r) => r.score) }], true),
            table: { columns: [{ key: 'dataset', label: '数据集' }, { key: 'score', label: '平均分', num: true }], rows },
            downloads: [{ path: SCORE, params: { period: C.day(ctx.state.month) } }] };
        },
      },
      {
        id: 'trend', title: '质量评分趋势（近12个月平均分）',
        render: async (ctx) => {
          const p = window12(ctx.state);
          if (ctx.state.drill.dataset) p.dataset = ctx.state.drill.dataset.value;
          const read = await ctx.api(SCORE, p);
          const by = C.group(read.rows, 'period');
          const rows = months12(ctx.state).map((m) => ({ month: m, score: mean(by.get(C.day(m)) || [], 'score') }));
          return { option: { tooltip: { trigger: 'axis' }, grid: { left: 50, right: 20, top: 30, bottom: 30 }, xAxis: { type: 'category', data: rows.map((r) => r.month) }, yAxis: { type: 'value' }, series: [{ name: '平均分', type: 'line', data: rows.map((r) => r.score) }] },
            table: { columns: [{ key: 'month', label: '月份' }, { key: 'score', label: '平均分', num: true }], rows }, downloads: [{ path: SCORE, params: p }] };
        },
      },
      {
        id: 'issues', title: '未关闭的质量问题（按维度）',
        render: async (ctx) => {
          const p = {};
          if (ctx.state.drill.dataset) p.dataset = ctx.state.drill.dataset.value;
          const read = await ctx.api(ISSUE, p);
          const open = read.rows.filter((r) => r.status !== 'closed');
          const counts = [...C.group(open, 'dimension').entries()].map(([d, rs]) => ({ dimension: d, n: rs.length })).sort((a, b) => (a.dimension < b.dimension ? -1 : 1));
          const rows = open.map((r) => ({ issue_id: r.issue_id, dataset: r.dataset, rule_id: r.rule_id, dimension: r.dimension, severity: r.severity, status: r.status, affected_rows: r.affected_rows }));
          return { option: bar(counts.map((r) => r.dimension), [{ name: '未关闭问题数', data: counts.map((r) => r.n) }]),
            note: '不含样例数据行。',
            table: { columns: [{ key: 'issue_id', label: '问题编号' }, { key: 'dataset', label: '数据集' }, { key: 'rule_id', label: '规则' }, { key: 'dimension', label: '维度' }, { key: 'severity', label: '级别' }, { key: 'status', label: '状态' }, { key: 'affected_rows', label: '影响行数', num: true }], rows },
            downloads: [{ path: ISSUE, params: p }] };
        },
      },
    ],
  };

  const boards = { economy, devices, capacity, chain, quality };
  const id = document.getElementById('panels').getAttribute('data-board');
  C.define(boards[id]);
})();
