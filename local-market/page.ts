// The live view's page: plain HTML and a little script drawing SVG charts from /api/state.
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PinFi local market</title><link rel="icon" href="data:,">
<style>
 body{font:14px system-ui,sans-serif;margin:20px;background:#0f1419;color:#e6e6e6}
 h1{font-size:20px;margin:0 0 4px} .sub{color:#8a96a3;margin-bottom:16px}
 .pools{display:flex;gap:16px;flex-wrap:wrap} .pool{background:#182029;border-radius:8px;padding:12px;width:360px}
 .pool h2{font-size:15px;margin:0 0 6px} .kv{color:#8a96a3;font-size:12px;margin-bottom:6px}
 svg{background:#0f1419;border-radius:4px} table{border-collapse:collapse;margin-top:16px;width:100%}
 td,th{padding:4px 8px;border-bottom:1px solid #25303b;text-align:left;font-size:13px} th{color:#8a96a3}
 .Active{color:#5ad07a}.Settled{color:#6aa8ff}.Waiting,.Pending{color:#e0b44c}.Preempted{color:#e0884c}.Failed,.Expired{color:#e06c6c}
 code{font-size:12px;color:#b5c1cc} .axis{font-size:10px;fill:#6b7785}
</style></head>
<body>
<h1>PinFi local market</h1><div class="sub" id="sub">connecting…</div>
<div class="pools" id="pools"></div>
<h3>Leases</h3><table id="leases"><thead><tr><th>lease</th><th>pool</th><th>GPUs</th><th>state</th><th>price/GPU-h</th><th>total</th><th>ends</th></tr></thead><tbody></tbody></table>
<h3>Recent settlements</h3><table id="settlements"><thead><tr><th>lease</th><th>reason</th><th>refund</th><th>transaction</th></tr></thead><tbody></tbody></table>
<script>
const usdc = (v) => v === undefined ? '-' : (Number(v) / 1e6).toFixed(2);
// A line chart of points[key] over time, its range written at the left edge (top and bottom).
function chart(points, key, color, fmt, fixedMax) {
  const w = 336, h = 70;
  if (points.length < 2) return '<svg width="'+w+'" height="'+h+'"><text x="6" y="40" class="axis">collecting samples…</text></svg>';
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const vals = points.map(p => p[key]);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const pad = hi === lo ? Math.max(Math.abs(hi) * 0.1, 1e-9) : (hi - lo) * 0.1;
  const max = fixedMax ?? hi + pad, min = fixedMax ? 0 : Math.max(0, lo - pad);
  const xy = points.map(p => [((p.t - t0) / Math.max(1, t1 - t0)) * (w - 4) + 2, h - 2 - ((p[key] - min) / Math.max(1e-9, max - min)) * (h - 4)]);
  const span = Math.round((t1 - t0) / 1000);
  return '<svg width="'+w+'" height="'+h+'" data-points="'+points.length+'">' +
    '<text x="4" y="11" class="axis">'+fmt(max)+'</text><text x="4" y="'+(h - 4)+'" class="axis">'+fmt(min)+'</text>' +
    '<text x="'+(w - 4)+'" y="'+(h - 4)+'" class="axis" text-anchor="end">last '+(span < 120 ? span + ' s' : Math.round(span / 60) + ' min')+'</text>' +
    '<polyline fill="none" stroke="'+color+'" stroke-width="2" points="'+xy.map(p => p.map(v => v.toFixed(1)).join(',')).join(' ')+'"/></svg>';
}
const fmtPrice = (v) => usdc(v);
const fmtShare = (v) => (v * 100).toFixed(0) + '%';
function esc(s) { return String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c])); }
async function refresh() {
  try {
    const s = await (await fetch('/api/state')).json();
    document.getElementById('sub').textContent = s.pools.length + ' pools · ' + s.leases.length + ' leases · updated ' + new Date(s.at).toLocaleTimeString();
    document.getElementById('pools').innerHTML = s.pools.map(p =>
      '<div class="pool" data-pool="'+esc(p.name)+'"><h2>'+esc(p.name)+' <span class="kv">'+esc(p.product)+'</span></h2>' +
      '<div class="kv">'+p.free+' of '+p.allocatable+' GPUs free · utilisation '+(p.utilization*100).toFixed(0)+'% · <b class="price">'+usdc(p.spotPrice)+'</b> USDC/GPU-h</div>' +
      '<div class="kv">price, USDC/GPU-h</div>' + chart(p.history, 'price', '#6aa8ff', fmtPrice) +
      '<div class="kv">utilisation</div>' + chart(p.history, 'utilization', '#5ad07a', fmtShare, 1) + '</div>').join('');
    document.querySelector('#leases tbody').innerHTML = s.leases.slice(-40).reverse().map(l =>
      '<tr><td>'+esc(l.namespace+'/'+l.name)+'</td><td>'+esc(l.pool)+'</td><td>'+l.gpus+'</td><td class="'+esc(l.phase)+'">'+esc(l.phase)+'</td><td>'+usdc(l.pricePerGpuHour)+'</td><td>'+usdc(l.total)+'</td><td>'+esc(l.endTime ? new Date(l.endTime).toLocaleTimeString() : '')+'</td></tr>').join('');
    document.querySelector('#settlements tbody').innerHTML = s.settlements.slice().reverse().map(l =>
      '<tr><td>'+esc(l.namespace+'/'+l.name)+'</td><td>'+esc(l.closeReason)+'</td><td>'+usdc(l.refund)+'</td><td><code>'+esc(l.settleTx)+'</code></td></tr>').join('');
  } catch (e) { document.getElementById('sub').textContent = 'waiting for the market: ' + e; }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>`;
