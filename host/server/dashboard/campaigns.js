// Campaigns: the form that starts one (a release to all devices, a tag or a list, in stages),
// and every campaign with its progress.
import {get, post} from './api.js';
import {field, h, headings, replace} from './dom.js';
import {ago, count, dateTime, percent} from './format.js';
import {stackBar} from './chart.js';
import {CAMPAIGN_DEVICE_STATES, badge} from './states.js';

// "1, 10,100" -> [1, 10, 100]; throws with a sentence when it is not increasing percentages
// ending at 100.
export function parseStages(text) {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) throw new Error('Give at least one stage, e.g. 1,10,100.');
  const stages = parts.map((part) => {
    if (!/^\d+$/.test(part)) throw new Error(`"${part}" is not a whole percentage.`);
    return parseInt(part, 10);
  });
  stages.forEach((stage, index) => {
    if (stage < 1 || stage > 100) throw new Error(`Stage ${stage}% is outside 1..100.`);
    if (index > 0 && stage <= stages[index - 1]) throw new Error('Each stage covers more devices than the one before it.');
  });
  if (stages[stages.length - 1] !== 100) throw new Error('The last stage must be 100 (every targeted device).');
  return stages;
}

function number(id, value, min, max) {
  return h('input', {type: 'number', id, value: String(value), min: String(min), max: max === undefined ? undefined : String(max),
    required: true, step: '1'});
}

function createForm(initialRelease) {
  const release = h('select', {id: 'campaign-release', required: true});
  const targetAll = h('input', {type: 'radio', name: 'target', value: 'all', checked: true});
  const targetTag = h('input', {type: 'radio', name: 'target', value: 'tag'});
  const targetList = h('input', {type: 'radio', name: 'target', value: 'list'});
  const tag = h('input', {type: 'text', id: 'campaign-tag', placeholder: 'tag', autocomplete: 'off'});
  const list = h('textarea', {id: 'campaign-devices', rows: 2, placeholder: 'dev-01, dev-02 …'});
  const stages = h('input', {type: 'text', id: 'campaign-stages', value: '1,10,100', autocomplete: 'off'});
  const success = number('campaign-success', 100, 1, 100);
  const halt = number('campaign-halt', 5, 0, 100);
  const rate = number('campaign-rate', 600, 1);
  const timeout = number('campaign-timeout', 3600, 10);
  const retries = number('campaign-retries', 2, 0, 20);
  const name = h('input', {type: 'text', id: 'campaign-name', placeholder: 'optional'});
  const message = h('div', {class: 'form-message', id: 'campaign-message', 'aria-live': 'polite'});
  const button = h('button', {type: 'submit', class: 'primary', id: 'campaign-start'}, 'Start campaign');

  const showTarget = () => {
    tag.disabled = !targetTag.checked;
    list.disabled = !targetList.checked;
  };
  for (const radio of [targetAll, targetTag, targetList]) radio.addEventListener('change', showTarget);
  tag.addEventListener('focus', () => { targetTag.checked = true; showTarget(); });
  showTarget();

  const form = h('form', {class: 'card form', id: 'campaign-form'},
    h('h2', {}, 'New campaign'),
    h('div', {class: 'grid'},
      field('Release', release),
      field('Name', name),
      h('fieldset', {class: 'field span2'}, h('legend', {class: 'label'}, 'Devices'),
        h('div', {class: 'targets'},
          h('label', {class: 'check'}, targetAll, 'All devices'),
          h('label', {class: 'check'}, targetTag, 'With tag', tag),
          h('label', {class: 'check list'}, targetList, 'These:', list))),
      field('Stages (cumulative %)', stages, 'each starts when the one before succeeded'),
      field('Success threshold %', success, 'confirmed share a stage needs'),
      field('Halt above % failed', halt, 'failures in a stage that stop the rollout'),
      field('Rate (requests/min)', rate),
      field('Timeout (s)', timeout, 'no confirmation by then: failed (SILENT)'),
      field('Retries', retries)),
    h('div', {class: 'actions'}, button, message));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    try {
      body = {
        release: release.value,
        stages: parseStages(stages.value),
        success_percent: Number(success.value),
        halt_failure_percent: Number(halt.value),
        rate_per_minute: Number(rate.value),
        timeout_s: Number(timeout.value),
        retries: Number(retries.value),
      };
      if (name.value.trim()) body.name = name.value.trim();
      if (targetTag.checked) {
        if (!tag.value.trim()) throw new Error('Name the tag.');
        body.tag = tag.value.trim();
      } else if (targetList.checked) {
        const ids = list.value.split(/[\s,]+/).filter(Boolean);
        if (ids.length === 0) throw new Error('List at least one device id.');
        body.devices = ids;
      } else {
        body.devices = 'all';
      }
    } catch (failure) {
      replace(message, h('span', {class: 'alert bad'}, failure.message));
      return;
    }
    button.disabled = true;
    try {
      const created = await post('/api/campaigns', body);
      location.hash = `#/campaigns/${created.id}`;
    } catch (failure) {
      replace(message, h('span', {class: 'alert bad', id: 'campaign-error'}, h('b', {}, failure.name), ' ', failure.message));
    } finally {
      button.disabled = false;
    }
  });

  // The releases to choose from, newest first.
  get('/api/releases?limit=200').then((releases) => {
    replace(release, releases.items.map((item) => h('option', {value: item.version}, item.version)));
    if (releases.items.length === 0) {
      replace(message, h('span', {class: 'muted'}, 'No release yet: ', h('a', {href: '#/releases'}, 'upload one'), ' first.'));
      button.disabled = true;
    }
    if (initialRelease) release.value = initialRelease;
  }).catch((failure) => replace(message, h('span', {class: 'alert bad'}, failure.message)));
  return form;
}

function stageText(campaign) {
  const stages = campaign.stages || [];
  const index = Math.min(Math.max(campaign.stage || 1, 1), stages.length || 1);
  return stages.length ? `${index} of ${stages.length} (${stages[index - 1]}%)` : '';
}

function row(campaign) {
  const counts = campaign.counts || {};
  const done = (counts.confirmed || 0) + (counts.skipped || 0);
  return h('tr', {class: 'link', 'data-campaign': campaign.id,
    onclick: () => { location.hash = `#/campaigns/${campaign.id}`; }},
  h('td', {class: 'number'}, h('a', {href: `#/campaigns/${campaign.id}`}, `#${campaign.id}`)),
  h('td', {}, h('b', {class: 'version'}, campaign.release), campaign.name ? h('span', {class: 'muted'}, ` ${campaign.name}`) : ''),
  h('td', {}, badge(campaign.state)),
  h('td', {}, stageText(campaign)),
  h('td', {class: 'progress-cell'}, stackBar(counts, CAMPAIGN_DEVICE_STATES, campaign.targeted, {small: true}),
    h('span', {class: 'small muted'}, `${count(done)} of ${count(campaign.targeted)} done · ${percent(done, campaign.targeted)}`)),
  h('td', {class: ['number', counts.failed ? 'bad-text' : '']}, count(counts.failed || 0)),
  h('td', {title: dateTime(campaign.created_at)}, ago(campaign.created_at)));
}

export function mount(main, _id, context) {
  const body = h('tbody', {});
  const initialRelease = context.query.get('new');
  const formSlot = h('div', {});
  const toggle = h('button', {type: 'button', class: 'primary', id: 'new-campaign'}, 'New campaign');
  const showForm = () => {
    toggle.hidden = true;
    replace(formSlot, createForm(initialRelease));
  };
  toggle.addEventListener('click', showForm);
  replace(main,
    h('div', {class: 'page-title'}, h('h1', {}, 'Campaigns'), h('span', {class: 'spacer'}), toggle),
    formSlot,
    h('section', {class: 'card'},
      h('table', {class: 'table', id: 'campaigns'},
        headings([['', 'number'], 'Release', 'State', 'Stage', 'Progress', ['Failed', 'number'], 'Started']),
        body)));
  if (initialRelease !== null) showForm();
  return {
    async refresh() {
      const list = await get('/api/campaigns?limit=100');
      replace(body, list.items.length ? list.items.map(row)
        : h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'No campaign yet.')));
    },
  };
}
