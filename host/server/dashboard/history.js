// A campaign's counts by state over time, for its chart. The API answers counts as they are now,
// so the page keeps what it polled (in sessionStorage, per campaign, so going to another page and
// back keeps the curve). A campaign first opened late starts from what its devices' last changes
// tell: each device in the state it is in now from the moment it got there.
import {CAMPAIGN_DEVICE_STATES} from './states.js';

const LIMIT = 720;

function key(id) {
  return `cellota.samples.${id}`;
}

export function load(id) {
  try {
    const samples = JSON.parse(sessionStorage.getItem(key(id)) || '[]');
    return Array.isArray(samples) ? samples : [];
  } catch {
    return [];
  }
}

function save(id, samples) {
  try {
    sessionStorage.setItem(key(id), JSON.stringify(samples));
  } catch {
    // storage full: the curve just does not survive a page change
  }
}

function same(a, b) {
  return a.state === b.state &&
    CAMPAIGN_DEVICE_STATES.every((state) => (a.counts[state] || 0) === (b.counts[state] || 0));
}

// Adds the counts and the campaign's state seen at time t; a run of equal samples keeps only its
// ends, and a long history drops every other old sample.
export function record(id, samples, t, counts, state) {
  const sample = {t, counts: {...counts}, state};
  const last = samples[samples.length - 1];
  const before = samples[samples.length - 2];
  if (last && t < last.t) return samples;
  if (last && before && same(last, sample) && same(before, sample)) {
    last.t = t;
  } else {
    samples.push(sample);
  }
  if (samples.length > LIMIT) {
    const thinned = samples.filter((_, index) => index % 2 === 0 || index >= samples.length - LIMIT / 2);
    samples.splice(0, samples.length, ...thinned);
  }
  save(id, samples);
  return samples;
}

// The spans of time the campaign stood still (paused or halted): [{from, to, state}].
export function stops(samples) {
  const spans = [];
  let current = null;
  for (const sample of samples) {
    if (current && current.state !== sample.state) {
      current.to = sample.t;
      current = null;
    }
    if (!current && (sample.state === 'paused' || sample.state === 'halted')) {
      current = {from: sample.t, to: sample.t, state: sample.state};
      spans.push(current);
    }
    if (current) current.to = sample.t;
  }
  return spans;
}

// The history rebuilt from each device's current state and when it reached it.
export function reconstruct(campaign, members) {
  const start = new Date(campaign.created_at).getTime();
  const changes = members.map((member) => ({state: member.state, t: new Date(member.updated_at).getTime()}))
    .filter((change) => !Number.isNaN(change.t)).sort((a, b) => a.t - b.t);
  const counts = {pending: campaign.targeted || members.length};
  const samples = Number.isNaN(start) ? [] : [{t: start, counts: {...counts}}];
  for (const change of changes) {
    if (change.state === 'pending') continue;
    counts.pending = Math.max(0, (counts.pending || 0) - 1);
    counts[change.state] = (counts[change.state] || 0) + 1;
    samples.push({t: Math.max(change.t, start || change.t), counts: {...counts}});
  }
  return samples;
}
