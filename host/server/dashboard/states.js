// What each state is called and which colour it wears. Colours carry meaning and stay the same
// everywhere (badges, bars, the chart): green done well, red failed, blue moving bytes, purple
// installing, amber waiting on someone, grey nothing happening. style.css defines --state-NAME.
import {h} from './dom.js';

// A device's place in a campaign, in the order a rollout moves through them (the chart stacks
// them bottom up in this order: finished at the bottom, not started on top).
export const CAMPAIGN_DEVICE_STATES = [
  'confirmed', 'skipped', 'failed', 'installing', 'downloading', 'notified', 'pending',
];

export const CAMPAIGN_DEVICE_LABELS = {
  confirmed: 'confirmed', skipped: 'already there', failed: 'failed', installing: 'installing',
  downloading: 'downloading', notified: 'notified', pending: 'pending',
};

// The agent's own states, as its status messages name them (device/agent/status.c).
export const DEVICE_STATES = [
  'starting', 'testing', 'idle', 'checking', 'downloading', 'waiting', 'verifying', 'staging',
  'rebooting', 'up_to_date', 'confirmed', 'rolled_back', 'failed',
];

export const CAMPAIGN_STATES = ['running', 'paused', 'halted', 'aborted', 'completed'];

// The colour family of any state name.
const TONE = {
  confirmed: 'good', up_to_date: 'good', completed: 'good',
  skipped: 'done',
  failed: 'bad', rolled_back: 'bad', halted: 'bad',
  downloading: 'moving', checking: 'moving', running: 'moving',
  installing: 'installing', verifying: 'installing', staging: 'installing', rebooting: 'installing',
  testing: 'installing',
  notified: 'waiting', waiting: 'waiting', paused: 'waiting',
  pending: 'idle', idle: 'idle', starting: 'idle', aborted: 'idle',
};

export function tone(state) {
  return TONE[state] || 'idle';
}

export function label(state) {
  return CAMPAIGN_DEVICE_LABELS[state] || String(state || 'unknown').replace(/_/g, ' ');
}

// A coloured pill naming the state.
export function badge(state, text) {
  return h('span', {class: `badge tone-${tone(state)}`, 'data-state': state || ''}, text || label(state));
}

// The colour of a chart layer (a CSS variable, so style.css keeps the palette in one place).
export function colour(state) {
  return state === 'pending' ? 'var(--tone-pending)' : `var(--tone-${tone(state)})`;
}
