// The header's fleet summary (GET /api/summary): how many devices, how many online, which
// versions they run, the active campaigns and the bytes served.
import {h, replace} from './dom.js';
import {bytes, count, percent} from './format.js';

// Semantic-version precedence, enough to order versions on screen (newest first).
export function compareVersions(a, b) {
  const split = (v) => {
    const [core, pre] = String(v).split('+')[0].split(/-(.*)/s);
    return {core: core.split('.').map((n) => parseInt(n, 10) || 0), pre};
  };
  const x = split(a), y = split(b);
  for (let i = 0; i < 3; i++) {
    if ((x.core[i] || 0) !== (y.core[i] || 0)) return (x.core[i] || 0) - (y.core[i] || 0);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

// Versions get shades of one hue, newest darkest: they are an ordered set, not states.
const SHADES = ['#1e3a8a', '#3b5bdb', '#5c7cfa', '#91a7ff', '#bac8ff', '#dbe4ff'];

export function versionShade(index) {
  return SHADES[Math.min(index, SHADES.length - 1)];
}

function tile(name, value, detail, id) {
  return h('div', {class: 'tile', id},
    h('span', {class: 'tile-label'}, name),
    h('span', {class: 'tile-value'}, value),
    detail ? h('span', {class: 'tile-detail'}, detail) : null);
}

export function renderSummary(container, summary) {
  const versions = Object.entries(summary.by_version || {}).sort((a, b) => compareVersions(b[0], a[0]));
  const total = summary.devices || 0;
  const bar = h('div', {class: 'stackbar versions'},
    versions.map(([version, n], index) => h('span', {
      style: {width: `${total ? 100 * n / total : 0}%`, background: versionShade(index)},
      title: `${version}: ${count(n)} devices (${percent(n, total)})`})));
  const keys = h('ul', {class: 'legend compact'}, versions.map(([version, n], index) => h('li', {},
    h('a', {class: 'key', href: `#/devices?version=${encodeURIComponent(version)}`, 'data-version': version},
      h('i', {style: {background: versionShade(index)}}), h('span', {class: 'key-label'}, version),
      h('b', {}, count(n))))));
  replace(container,
    tile('Devices', count(total), null, 'summary-devices'),
    tile('Online', h('span', {}, h('i', {class: 'dot on'}), count(summary.online)),
      percent(summary.online || 0, total), 'summary-online'),
    tile('Active campaigns', count(summary.campaigns_active), null, 'summary-campaigns'),
    tile('Releases', count(summary.releases), null, 'summary-releases'),
    tile('Bytes served', bytes(summary.bytes_served), null, 'summary-bytes'),
    h('div', {class: 'tile wide', id: 'summary-versions'},
      h('span', {class: 'tile-label'}, 'Running versions'), bar, keys));
}
