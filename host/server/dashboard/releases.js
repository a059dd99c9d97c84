// Releases: upload a plain image with its version (the server packs and signs it), and the list
// of releases, each with a button that starts a campaign for it.
import {get, post, query} from './api.js';
import {field, h, headings, replace} from './dom.js';
import {ago, bytes, dateTime, hex, shortHash} from './format.js';

function uploadForm(refreshNow) {
  const file = h('input', {type: 'file', name: 'image', id: 'release-file', required: true});
  const version = h('input', {type: 'text', name: 'version', id: 'release-version', required: true,
    placeholder: '1.4.0', pattern: '\\S+', autocomplete: 'off'});
  const loadAddress = h('input', {type: 'text', name: 'load_address', id: 'release-load-address',
    placeholder: 'the device\'s default', autocomplete: 'off'});
  const notes = h('input', {type: 'text', name: 'notes', id: 'release-notes', placeholder: 'what changed'});
  const plain = h('input', {type: 'checkbox', name: 'plain', id: 'release-plain'});
  const message = h('div', {class: 'form-message', id: 'release-message', 'aria-live': 'polite'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Upload release');

  const form = h('form', {class: 'card form', id: 'release-form'},
    h('h2', {}, 'Upload a release'),
    h('p', {class: 'muted'}, 'The plain firmware image. The server encrypts it, signs its update request ',
      'with the server\'s key and hosts it for the devices.'),
    h('div', {class: 'grid'},
      field('Firmware image', file),
      field('Version', version, 'semantic version: MAJOR.MINOR.PATCH'),
      field('Load address', loadAddress, 'optional, e.g. 0x1000'),
      field('Notes', notes)),
    h('label', {class: 'check'}, plain,
      h('span', {}, 'Also serve the plain image at ', h('code', {}, '/firmware.bin'),
        ' (seed-000 devices that cannot decrypt)')),
    h('div', {class: 'actions'}, button, message));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    button.disabled = true;
    replace(message, h('span', {class: 'muted'}, `Uploading ${chosen.name} (${bytes(chosen.size)})…`));
    try {
      const release = await post('/api/releases' + query({
        version: version.value.trim(), load_address: loadAddress.value.trim(), notes: notes.value.trim(),
        plain: plain.checked ? 1 : '',
      }), chosen);
      replace(message, h('span', {class: 'alert good', id: 'release-done'}, `Release ${release.version} uploaded: `,
        `${bytes(release.size)} encrypted, SHA-256 ${shortHash(release.sha256)}… `,
        h('a', {href: `#/campaigns?new=${encodeURIComponent(release.version)}`}, 'Roll it out →')));
      form.reset();
      refreshNow();
    } catch (failure) {
      replace(message, h('span', {class: 'alert bad', id: 'release-error'},
        h('b', {}, failure.name), ' ', failure.message));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function row(release) {
  return h('tr', {'data-version': release.version},
    h('td', {}, h('b', {class: 'version'}, release.version)),
    h('td', {class: 'number', title: `${release.plain_size} bytes plain, ${release.size} encrypted`},
      bytes(release.plain_size), h('span', {class: 'muted small'}, ` → ${bytes(release.size)}`)),
    h('td', {class: 'mono'}, hex(release.load_address)),
    h('td', {class: 'mono', title: release.sha256}, shortHash(release.sha256)),
    h('td', {}, release.plain_download ? h('span', {class: 'badge tone-waiting'}, 'plain too') : '',
      release.retired_at ? h('span', {class: 'badge tone-bad', title: 'its keys are destroyed'}, 'retired') : '',
      // the forms devices are sent (each gets the smallest it can apply)
      h('div', {class: 'muted small variants'}, (release.variants || []).map((variant) =>
        `${variant.encoding === 'delta' ? `Δ ${variant.base}` : variant.encoding} ${bytes(variant.size)}`).join(' · '))),
    h('td', {class: 'notes'}, release.notes || ''),
    h('td', {title: dateTime(release.created_at)}, ago(release.created_at)),
    h('td', {class: 'right'}, h('a', {class: 'button small', href: `#/campaigns?new=${encodeURIComponent(release.version)}`},
      'Roll out')));
}

export function mount(main, _id, context) {
  const body = h('tbody', {});
  const total = h('span', {class: 'muted'});
  replace(main,
    h('div', {class: 'page-title'}, h('h1', {}, 'Releases'), total),
    h('div', {class: 'columns releases'},
      uploadForm(context.refreshNow),
      h('section', {class: 'card'},
        h('table', {class: 'table', id: 'releases'},
          headings(['Version', ['Size', 'number'], 'Load address', 'SHA-256', '', 'Notes', 'Uploaded', '']),
          body))));
  return {
    async refresh() {
      const list = await get('/api/releases?limit=200');
      total.textContent = `${list.total} release${list.total === 1 ? '' : 's'}`;
      replace(body, list.items.length ? list.items.map(row)
        : h('tr', {}, h('td', {colspan: 8, class: 'empty'}, 'No release yet: upload one.')));
    },
  };
}
