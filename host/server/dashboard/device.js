// One device: what it is and runs now, its tags, and its timeline -- every status it reported,
// newest first, with the error's name and sentence.
import {get, put} from './api.js';
import {h, headings, replace} from './dom.js';
import {ago, dateTime} from './format.js';
import {badge} from './states.js';

function progressBar(value) {
  const width = Math.max(0, Math.min(100, Number(value) || 0));
  return h('span', {class: 'progress', title: `${width}%`},
    h('span', {class: 'track'}, h('span', {style: {width: `${width}%`}})), h('em', {}, `${width}%`));
}

// older: the entry reported just before this one. An error a device keeps reporting in status
// after status is said in full once, where it began; later rows name it.
function timelineRow(entry, older) {
  const failed = entry.error && entry.error !== 0;
  const repeated = failed && older && older.error === entry.error;
  return h('tr', {class: failed ? 'failed' : '', 'data-state': entry.state},
    h('td', {class: 'nowrap', title: entry.at}, dateTime(entry.at)),
    h('td', {}, badge(entry.state)),
    h('td', {class: 'nowrap'}, h('span', {class: 'version'}, entry.version || ''),
      entry.target && entry.target !== entry.version ? h('span', {class: 'muted'}, ' → ', h('span', {class: 'version'}, entry.target)) : ''),
    h('td', {}, entry.state === 'downloading' || entry.progress ? progressBar(entry.progress) : ''),
    h('td', {}, failed ? h('span', {class: 'mono bad-text'}, entry.error_name) : h('span', {class: 'muted'}, entry.error_name || '')),
    h('td', {class: ['sentence', failed && !repeated && 'bad-text'], title: failed ? entry.message : undefined},
      failed ? (repeated ? h('span', {class: 'muted small'}, 'still reported') : entry.message) : ''),
    h('td', {}, entry.campaign ? h('a', {href: `#/campaigns/${encodeURIComponent(entry.campaign)}`}, `#${entry.campaign}`) : ''));
}

export function mount(main, id, context) {
  const title = h('h1', {}, id);
  const facts = h('dl', {class: 'facts wide', id: 'device-facts'});
  const body = h('tbody', {});
  const tags = h('input', {type: 'text', id: 'device-tags', autocomplete: 'off', placeholder: 'comma separated'});
  const tagMessage = h('span', {class: 'form-message'});
  let tagsShown = null;
  const save = h('button', {type: 'submit'}, 'Save tags');
  const tagForm = h('form', {class: 'inline', id: 'tag-form'}, tags, save, tagMessage);
  tagForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const list = tags.value.split(',').map((tag) => tag.trim()).filter(Boolean);
      const device = await put(`/api/devices/${encodeURIComponent(id)}/tags`, {tags: list});
      tagsShown = null;
      replace(tagMessage, h('span', {class: 'good-text'}, `saved: ${(device.tags || []).join(', ') || 'no tags'}`));
      context.refreshNow();
    } catch (failure) {
      replace(tagMessage, h('span', {class: 'alert bad'}, failure.message));
    } finally {
      save.disabled = false;
    }
  });

  replace(main,
    h('div', {class: 'page-title'}, h('a', {href: '#/devices', class: 'back'}, '← Devices'), title),
    h('div', {class: 'columns device'},
      h('section', {class: 'card'}, h('h2', {}, 'Now'), facts,
        h('h3', {}, 'Tags'), tagForm),
      h('section', {class: 'card grow'}, h('h2', {}, 'Timeline'),
        h('table', {class: 'table', id: 'timeline'},
          headings(['Time', 'State', 'Version', 'Progress', 'Error', 'What happened', 'Campaign']),
          body))));

  return {
    async refresh() {
      const device = await get(`/api/devices/${encodeURIComponent(id)}`);
      replace(title, h('i', {class: ['dot', device.online ? 'on' : 'off'], title: device.online ? 'online' : 'offline'}), ' ', device.id);
      replace(facts,
        h('dt', {}, 'State'), h('dd', {}, badge(device.state),
          device.state === 'downloading' ? [' ', progressBar(device.progress)] : ''),
        h('dt', {}, 'Version'), h('dd', {}, h('span', {class: 'version'}, device.version || '')),
        h('dt', {}, 'Model'), h('dd', {}, device.model || 'not reported yet'),
        h('dt', {}, 'Online'), h('dd', {}, device.online ? 'yes' : 'no'),
        h('dt', {}, 'Last seen'), h('dd', {title: dateTime(device.last_seen)}, ago(device.last_seen)),
        h('dt', {}, 'Campaign'), h('dd', {}, device.campaign
          ? [h('a', {href: `#/campaigns/${device.campaign}`}, `#${device.campaign}`), ' ', device.campaign_state ? badge(device.campaign_state) : '']
          : 'none'),
        h('dt', {}, 'Last error'), h('dd', {id: 'device-error'}, device.error
          ? [h('span', {class: 'mono bad-text'}, device.error_name), h('div', {class: 'sentence'}, device.message)]
          : h('span', {class: 'muted'}, 'none')));
      const tagText = (device.tags || []).join(', ');
      if (tagsShown !== tagText && document.activeElement !== tags) {
        tags.value = tagText;
        tagsShown = tagText;
      }
      const timeline = device.timeline || [];
      replace(body, timeline.length ? timeline.map((entry, index) => timelineRow(entry, timeline[index + 1]))
        : h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'No status reported yet.')));
    },
  };
}
