// One campaign, as an operator watches a rollout: its state and the buttons that change it, the
// stages with their thresholds and which one runs, counts by state now and over time, the
// failures grouped by their sentence, what it has cost, and its devices.
import {get, post, query} from './api.js';
import {h, headings, replace} from './dom.js';
import {ago, bytes, count, dateTime, duration, percent, usd} from './format.js';
import {legend, stackBar, stackedArea} from './chart.js';
import {CAMPAIGN_DEVICE_STATES, badge, label} from './states.js';
import * as history from './history.js';

const MEMBERS_MAX = 1000;
const SHOWN_MAX = 50;
const ACTIVE = ['running', 'paused', 'halted'];

// The index (0-based) of the stage the campaign is in; the API counts stages from 1.
function stageIndex(campaign) {
  const stages = campaign.stages || [];
  return Math.min(Math.max((campaign.stage || 1) - 1, 0), Math.max(stages.length - 1, 0));
}

// The stage (counted from 1) a campaign's device belongs to: the API gives its place in the
// campaign's order ("position", from 0), and each stage's cumulative count ("stage_targets").
function stageOf(campaign, member) {
  if (Number.isInteger(member.stage)) return member.stage;
  const targets = campaign.stage_targets || [];
  const index = targets.findIndex((target) => member.position < target);
  return index < 0 ? targets.length : index + 1;
}

// members: every device of the campaign, or null when it has too many to fetch at each poll.
function stageCards(campaign, members) {
  const stages = campaign.stages || [];
  const targets = campaign.stage_targets || [];
  const current = stageIndex(campaign);
  return stages.map((percentage, index) => {
    const size = (targets[index] || 0) - (index ? targets[index - 1] || 0 : 0);
    const counts = {};
    for (const member of members || []) {
      if (stageOf(campaign, member) - 1 === index) counts[member.state] = (counts[member.state] || 0) + 1;
    }
    let status;
    if (campaign.state === 'completed' || index < current) status = 'passed';
    else if (index === current) status = campaign.state;
    else status = ACTIVE.includes(campaign.state) ? 'waiting' : 'not started';
    const confirmed = (counts.confirmed || 0) + (counts.skipped || 0);
    return h('li', {class: ['stage', `stage-${status.replace(/ /g, '-')}`, index === current && ACTIVE.includes(campaign.state) && 'current'],
      'data-stage': index + 1},
    h('div', {class: 'stage-head'},
      h('b', {}, `Stage ${index + 1}`),
      h('span', {class: 'stage-percent'}, `${percentage}%`),
      h('span', {class: 'spacer'}),
      status === 'passed' ? badge('confirmed', 'passed') : status === 'waiting' || status === 'not started'
        ? badge('pending', status) : badge(status)),
    h('div', {class: 'stage-size'}, `${count(size)} device${size === 1 ? '' : 's'} · up to ${count(targets[index] || 0)} in all`),
    members ? stackBar(counts, CAMPAIGN_DEVICE_STATES, size, {small: true}) : null,
    h('div', {class: 'stage-rule small muted'},
      index + 1 < stages.length ? `next stage at ≥ ${campaign.success_percent}% confirmed` : 'last stage',
      ` · halts above ${campaign.halt_failure_percent}% failed`,
      size && members ? h('span', {class: 'stage-now'}, ` · now ${percent(confirmed, size)} confirmed`) : ''));
  });
}

// A reason as a sentence: capitalised, ending with a full stop.
function sentence(text) {
  text = String(text).trim();
  if (!text) return '';
  return text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

function failureTable(campaign) {
  const failures = [...(campaign.failures || [])].sort((a, b) => b.count - a.count);
  if (failures.length === 0) return h('p', {class: 'empty', id: 'no-failures'}, 'No failures.');
  return h('table', {class: 'table', id: 'failures'},
    headings([['Devices', 'number'], 'Reason', 'What happened']),
    h('tbody', {}, failures.map((failure) => h('tr', {'data-reason': failure.reason},
      h('td', {class: 'number bad-text'}, h('b', {}, count(failure.count))),
      h('td', {class: 'mono'}, failure.reason),
      h('td', {class: 'sentence'}, failure.message)))));
}

function sentSplit(sent) {
  if (!sent) return '';
  return ['full', 'compressed', 'delta'].map((variant) => {
    const part = sent[variant] || {devices: 0, bytes: 0};
    return h('div', {'data-variant': variant},
      `${variant}: ${count(part.devices)} ${part.devices === 1 ? 'device' : 'devices'}, ${bytes(part.bytes)}`);
  });
}

function costCard(campaign) {
  const cost = campaign.cost || {};
  return h('dl', {class: 'facts', id: 'cost'},
    h('dt', {}, 'Bytes served'), h('dd', {id: 'bytes-served'}, bytes(campaign.bytes_served)),
    // What was really sent: each device gets the smallest variant it can apply.
    h('dt', {}, 'Sent as'), h('dd', {id: 'sent-split'}, sentSplit(campaign.sent)),
    h('dt', {}, 'Requests published'), h('dd', {}, count(campaign.requests_published)),
    h('dt', {}, `Data cost so far${cost.provider ? ` (${cost.provider.toUpperCase()})` : ''}`),
    h('dd', {id: 'cost-total'}, h('b', {}, usd(cost.total_usd)),
      h('div', {class: 'muted small'}, `requests ${usd(cost.requests_usd)} + data ${usd(cost.data_usd)}`)),
    h('dt', {}, 'Whole campaign, projected'), h('dd', {}, usd(cost.projected_total_usd)));
}

function settings(campaign) {
  const elapsed = ((campaign.finished_at ? new Date(campaign.finished_at) : new Date()) - new Date(campaign.created_at)) / 1000;
  return h('dl', {class: 'facts'},
    h('dt', {}, 'Started'), h('dd', {title: dateTime(campaign.created_at)}, `${ago(campaign.created_at)}`),
    h('dt', {}, campaign.finished_at ? 'Took' : 'Running for'), h('dd', {}, Number.isNaN(elapsed) ? '' : duration(elapsed)),
    h('dt', {}, 'Rate'), h('dd', {}, `${count(campaign.rate_per_minute)} requests/min`),
    h('dt', {}, 'Silent after'), h('dd', {}, duration(campaign.timeout_s)),
    h('dt', {}, 'Retries'), h('dd', {}, count(campaign.retries)));
}

function memberRow(campaign, member) {
  return h('tr', {'data-device': member.device},
    h('td', {}, h('a', {href: `#/devices/${encodeURIComponent(member.device)}`}, member.device)),
    h('td', {}, badge(member.state)),
    h('td', {class: 'number'}, stageOf(campaign, member)),
    h('td', {class: 'number'}, count(member.attempts)),
    h('td', {}, member.reason ? h('span', {class: 'mono'}, member.reason) : '',
      member.message && member.state === 'failed' ? h('div', {class: 'sentence small'}, member.message) : ''),
    h('td', {title: dateTime(member.updated_at)}, ago(member.updated_at)));
}

export function mount(main, id, context) {
  let samples = history.load(id);
  let filter = '';
  let latest = null;
  let confirmAbort = null;

  const title = h('h1', {}, `Campaign #${id}`);
  const state = h('span', {id: 'campaign-state'});
  const controls = h('div', {class: 'controls'});
  const notice = h('div', {id: 'campaign-notice'});
  const refused = h('div', {id: 'campaign-refused'});
  const headline = h('div', {class: 'headline', id: 'headline'});
  const bar = h('div', {});
  const keys = h('div', {});
  const chart = h('div', {class: 'chart-box', id: 'chart'});
  const stages = h('ol', {class: 'stages', id: 'stages'});
  const failures = h('div', {});
  const cost = h('div', {});
  const facts = h('div', {});
  const membersBody = h('tbody', {});
  const membersTitle = h('h2', {}, 'Devices');

  async function act(action) {
    try {
      const answer = await post(`/api/campaigns/${encodeURIComponent(id)}/${action}`);
      replace(refused);
      render(answer, null);
      context.refreshNow();
    } catch (failure) {
      replace(refused, h('p', {class: 'alert bad'}, h('b', {}, failure.name), ' ', failure.message));
    }
  }

  function buttons(campaign) {
    const running = campaign.state === 'running';
    const stopped = campaign.state === 'paused' || campaign.state === 'halted';
    const abort = h('button', {type: 'button', class: ['danger', confirmAbort && 'armed'], id: 'abort',
      disabled: !(running || stopped)}, confirmAbort ? 'Really abort?' : 'Abort');
    abort.addEventListener('click', () => {
      if (!confirmAbort) {
        // a second click within 4 s aborts: an abort cannot be undone
        confirmAbort = setTimeout(() => { confirmAbort = null; if (latest) buttons(latest); }, 4000);
        buttons(campaign);
        return;
      }
      clearTimeout(confirmAbort);
      confirmAbort = null;
      act('abort');
    });
    replace(controls,
      h('button', {type: 'button', id: 'pause', disabled: !running, onclick: () => act('pause')}, 'Pause'),
      h('button', {type: 'button', id: 'resume', class: 'primary', disabled: !stopped, onclick: () => act('resume')}, 'Resume'),
      abort);
  }

  function render(campaign, members) {
    latest = campaign;
    const counts = campaign.counts || {};
    const targeted = campaign.targeted || 0;
    const done = (counts.confirmed || 0) + (counts.skipped || 0);
    const moving = (counts.notified || 0) + (counts.downloading || 0) + (counts.installing || 0);
    replace(title, `Campaign #${campaign.id} `, h('span', {class: 'version'}, campaign.release),
      campaign.name ? h('span', {class: 'muted light'}, ` · ${campaign.name}`) : '');
    replace(state, badge(campaign.state));
    buttons(campaign);
    if (campaign.state === 'halted') {
      replace(notice, h('p', {class: 'alert bad', id: 'halt-reason'}, h('b', {}, 'Halted. '),
        sentence(campaign.halt_reason || 'Failures passed the threshold'), ' Resume to go on, or abort.'));
    } else if (campaign.state === 'paused') {
      replace(notice, h('p', {class: 'alert waiting'}, 'Paused: no new requests are sent until you resume.'));
    } else {
      replace(notice);
    }
    replace(headline,
      h('div', {class: ['big', done === 0 && 'none'], id: 'done-percent'}, percent(done, targeted)),
      h('div', {class: 'big-label'}, `${count(done)} of ${count(targeted)} device${targeted === 1 ? '' : 's'} on ${campaign.release}`),
      h('div', {class: 'headline-counts'},
        h('span', {}, h('b', {}, count(moving)), ' in progress'),
        h('span', {class: counts.failed ? 'bad-text' : ''}, h('b', {}, count(counts.failed || 0)), ' failed'),
        h('span', {}, h('b', {}, count(counts.pending || 0)), ' pending')));
    replace(bar, stackBar(counts, CAMPAIGN_DEVICE_STATES, targeted));
    replace(keys, legend(counts, CAMPAIGN_DEVICE_STATES, {active: filter, pick: (picked) => {
      filter = filter === picked ? '' : picked;
      context.refreshNow();
    }}));

    if (!campaign.finished_at || samples.length === 0 ||
        samples[samples.length - 1].t < new Date(campaign.finished_at).getTime()) {
      history.record(id, samples, Date.now(), counts, campaign.state);
    }
    const targets = campaign.stage_targets || [];
    replace(chart, stackedArea(samples, CAMPAIGN_DEVICE_STATES, {max: targeted,
      marks: targets.slice(0, -1).map((value, index) => ({value, text: `stage ${index + 1}: ${value}`})),
      spans: history.stops(samples),
      title: `Campaign ${campaign.id}: devices by state over time`}));

    replace(failures, failureTable(campaign));
    replace(cost, costCard(campaign));
    replace(facts, settings(campaign));
    if (members) {
      replace(stages, stageCards(campaign, members.all));
      replace(membersTitle, 'Devices', h('span', {class: 'muted light'},
        filter ? ` · ${label(filter)} (${count(members.shown.total)})` : ` (${count(members.shown.total)})`),
      filter ? h('button', {type: 'button', class: 'quiet small', onclick: () => { filter = ''; context.refreshNow(); }}, 'show all') : '');
      replace(membersBody, members.shown.items.length ? members.shown.items.map((member) => memberRow(campaign, member))
        : h('tr', {}, h('td', {colspan: 6, class: 'empty'}, 'No device here.')));
      const more = members.shown.total - members.shown.items.length;
      if (more > 0) {
        membersBody.append(h('tr', {}, h('td', {colspan: 6, class: 'empty'},
          `… and ${count(more)} more${filter ? '' : '; pick a state above to see its devices'}.`)));
      }
    }
  }

  replace(main,
    h('div', {class: 'page-title'}, h('a', {href: '#/campaigns', class: 'back'}, '← Campaigns'), title, state,
      h('span', {class: 'spacer'}), controls),
    notice, refused,
    h('div', {class: 'columns campaign'},
      h('div', {class: 'side'},
        h('section', {class: 'card progress-card'}, headline, bar, keys, chart),
        h('section', {class: 'card'}, h('h2', {}, 'Failures by reason'), failures),
        h('section', {class: 'card'}, membersTitle,
          h('table', {class: 'table', id: 'campaign-devices'},
            headings(['Device', 'State', ['Stage', 'number'], ['Attempts', 'number'], 'Reason', 'Changed']),
            membersBody))),
      h('aside', {class: 'side'},
        h('section', {class: 'card'}, h('h2', {}, 'Stages'), stages),
        h('section', {class: 'card'}, h('h2', {}, 'Cost'), cost, h('h3', {}, 'Settings'), facts))));

  return {
    async refresh() {
      const path = `/api/campaigns/${encodeURIComponent(id)}`;
      const campaign = await get(path);
      // Every device of a campaign of up to MEMBERS_MAX (for the stages' own counts); a larger
      // one shows its first devices and counts by stage are left out.
      const whole = campaign.targeted <= MEMBERS_MAX;
      const [all, shown] = await Promise.all([
        whole ? get(`${path}/devices?limit=${MEMBERS_MAX}`) : null,
        filter || !whole ? get(`${path}/devices${query({state: filter, limit: SHOWN_MAX})}`) : null,
      ]);
      if (samples.length === 0 && all) samples = history.reconstruct(campaign, all.items);
      render(campaign, {all: all ? all.items : null,
        shown: shown || {total: all.total, items: all.items.slice(0, SHOWN_MAX)}});
    },
    destroy() {
      if (confirmAbort) clearTimeout(confirmAbort);
    },
  };
}
