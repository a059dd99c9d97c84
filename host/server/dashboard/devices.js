// Devices: the fleet as a table, filtered by state, version, tag and whether it is online. The
// filters live in the URL (#/devices?state=failed), so a view can be bookmarked or sent.
import {get, query} from './api.js';
import {field, h, headings, replace} from './dom.js';
import {ago, count, dateTime} from './format.js';
import {DEVICE_STATES, badge} from './states.js';
import {legend, stackBar} from './chart.js';
import {compareVersions} from './summary.js';

const PAGE = 100;

function row(device) {
  const open = () => { location.hash = `#/devices/${encodeURIComponent(device.id)}`; };
  const inProgress = device.state === 'downloading' && device.progress > 0 && device.progress < 100;
  return h('tr', {class: 'link', 'data-device': device.id, onclick: open},
    h('td', {}, h('i', {class: ['dot', device.online ? 'on' : 'off'], title: device.online ? 'online' : 'offline'})),
    h('td', {}, h('a', {href: `#/devices/${encodeURIComponent(device.id)}`}, device.id)),
    h('td', {class: 'muted'}, device.model || ''),
    h('td', {}, h('span', {class: 'version'}, device.version || '')),
    h('td', {}, badge(device.state), inProgress ? h('span', {class: 'small muted'}, ` ${device.progress}%`) : ''),
    h('td', {title: dateTime(device.last_seen)}, ago(device.last_seen)),
    h('td', {}, (device.tags || []).map((tag) => h('span', {class: 'tag'}, tag))),
    h('td', {class: 'error-cell'}, device.error ? [h('span', {class: 'mono bad-text'}, device.error_name),
      h('div', {class: 'sentence small'}, device.message)] : ''));
}

export function mount(main, _id, context) {
  const filters = {
    state: context.query.get('state') || '',
    version: context.query.get('version') || '',
    tag: context.query.get('tag') || '',
    online: context.query.get('online') || '',
  };
  let offset = 0;
  let knownVersions = '';

  const state = h('select', {id: 'filter-state'}, h('option', {value: ''}, 'any'),
    DEVICE_STATES.map((name) => h('option', {value: name}, name.replace(/_/g, ' '))));
  const version = h('select', {id: 'filter-version'}, h('option', {value: ''}, 'any'));
  const tag = h('input', {type: 'search', id: 'filter-tag', placeholder: 'any', autocomplete: 'off'});
  const online = h('select', {id: 'filter-online'}, h('option', {value: ''}, 'any'),
    h('option', {value: 'true'}, 'online'), h('option', {value: 'false'}, 'offline'));
  state.value = filters.state;
  tag.value = filters.tag;
  online.value = filters.online;

  const body = h('tbody', {});
  const total = h('span', {class: 'muted'});
  const fleetStates = h('section', {class: 'card', id: 'fleet-states'});
  const previous = h('button', {type: 'button', class: 'quiet'}, '← previous');
  const next = h('button', {type: 'button', class: 'quiet'}, 'next →');
  const pageText = h('span', {class: 'muted small'});

  const changed = () => {
    filters.state = state.value;
    filters.version = version.value;
    filters.tag = tag.value.trim();
    filters.online = online.value;
    offset = 0;
    // keep the filters in the URL without a navigation (which would rebuild the form)
    history.replaceState(null, '', `#/devices${query(filters)}`);
    context.refreshNow();
  };
  for (const input of [state, version, online]) input.addEventListener('change', changed);
  let typing = null;
  tag.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(changed, 300); });
  previous.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); context.refreshNow(); });
  next.addEventListener('click', () => { offset += PAGE; context.refreshNow(); });

  replace(main,
    h('div', {class: 'page-title'}, h('h1', {}, 'Devices'), total),
    fleetStates,
    h('form', {class: 'filters card', id: 'device-filters', onsubmit: (event) => event.preventDefault()},
      field('State', state), field('Version', version), field('Tag', tag), field('Online', online)),
    h('section', {class: 'card'},
      h('table', {class: 'table', id: 'devices'},
        headings(['', 'Device', 'Model', 'Version', 'State', 'Last seen', 'Tags', 'Last error']),
        body),
      h('div', {class: 'pager'}, previous, pageText, next)));

  return {
    async refresh(fleet) {
      const [list, summary] = await Promise.all([
        get(`/api/devices${query({...filters, limit: PAGE, offset})}`),
        fleet,
      ]);
      // the version filter offers the versions the fleet runs, newest first
      const versions = Object.keys(summary.by_version || {});
      if (filters.version && !versions.includes(filters.version)) versions.push(filters.version);
      versions.sort((a, b) => compareVersions(b, a));
      if (versions.join() !== knownVersions) {
        knownVersions = versions.join();
        replace(version, h('option', {value: ''}, 'any'), versions.map((v) => h('option', {value: v}, v)));
        version.value = filters.version;
      }
      // the whole fleet by its agents' states; a click on one filters the table by it
      const byState = summary.by_state || {};
      const shown = DEVICE_STATES.filter((name) => byState[name])
        .concat(Object.keys(byState).filter((name) => !DEVICE_STATES.includes(name)));
      replace(fleetStates, h('h2', {}, 'The fleet by state'), stackBar(byState, shown, summary.devices),
        legend(byState, shown, {active: filters.state, pick: (picked) => {
          state.value = filters.state === picked ? '' : picked;
          changed();
        }}));
      total.textContent = `${count(list.total)} device${list.total === 1 ? '' : 's'}` +
        (Object.values(filters).some(Boolean) ? ' match' : '');
      replace(body, list.items.length ? list.items.map(row)
        : h('tr', {}, h('td', {colspan: 8, class: 'empty'}, 'No device matches.')));
      pageText.textContent = list.total ? `${count(offset + 1)}–${count(offset + list.items.length)} of ${count(list.total)}` : '';
      previous.disabled = offset === 0;
      next.disabled = offset + list.items.length >= list.total;
    },
  };
}
