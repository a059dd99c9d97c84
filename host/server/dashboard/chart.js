// Charts drawn as plain SVG and HTML: a stacked area of device counts by state over time, and a
// one-line stacked bar of counts now. No chart library: these two shapes are all the page needs.
import {h, s} from './dom.js';
import {colour, label} from './states.js';
import {count, percent} from './format.js';

const WIDTH = 800;
const HEIGHT = 240;
const LEFT = 44, RIGHT = 12, TOP = 12, BOTTOM = 26;

function clock(ms) {
  const date = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

// Round tick values for an axis from 0 to max.
function ticks(max) {
  if (max <= 0) return [0];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  // devices are counted whole: never a step below one
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= rough) || rough);
  const values = [];
  for (let value = 0; value <= max + 1e-9; value += step) values.push(Math.round(value * 1e6) / 1e6);
  return values;
}

// samples: [{t: milliseconds, counts: {state: n}}] oldest first. order: states bottom up.
// options.max: the y axis' top (the campaign's targets); options.marks: [{value, text}] drawn as
// dashed lines (each stage's target); options.spans: [{from, to, state}] times shaded behind the
// bands and named (when the campaign was paused or halted).
export function stackedArea(samples, order, options = {}) {
  const plotWidth = WIDTH - LEFT - RIGHT, plotHeight = HEIGHT - TOP - BOTTOM;
  const svg = s('svg', {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img',
    'aria-label': options.title || 'Devices by state over time'});
  if (samples.length === 0) return svg;
  if (samples.length === 1) samples = [samples[0], {t: samples[0].t + 1000, counts: samples[0].counts}];
  const start = samples[0].t, end = samples[samples.length - 1].t;
  const totals = samples.map((sample) => order.reduce((sum, state) => sum + (sample.counts[state] || 0), 0));
  const max = Math.max(1, options.max || 0, ...totals);
  const x = (t) => LEFT + (end === start ? 0 : (t - start) / (end - start)) * plotWidth;
  const y = (value) => TOP + plotHeight - (value / max) * plotHeight;

  for (const value of ticks(max)) {
    svg.append(s('line', {x1: LEFT, x2: LEFT + plotWidth, y1: y(value), y2: y(value), class: 'grid'}),
      s('text', {x: LEFT - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end'}, count(value)));
  }
  const labelCount = Math.min(5, samples.length);
  for (let index = 0; index < labelCount; index++) {
    const t = start + (labelCount === 1 ? 0 : (end - start) * index / (labelCount - 1));
    const anchor = index === 0 ? 'start' : index === labelCount - 1 ? 'end' : 'middle';
    svg.append(s('text', {x: x(t), y: HEIGHT - 8, class: 'axis', 'text-anchor': anchor}, clock(t)));
  }

  // One polygon per state: its band between the running sum below it and that sum plus itself.
  const bands = [];
  const below = samples.map(() => 0);
  for (const state of order) {
    const above = samples.map((sample, index) => below[index] + (sample.counts[state] || 0));
    if (above.some((value, index) => value !== below[index])) {
      const upper = samples.map((sample, index) => `${x(sample.t).toFixed(1)},${y(above[index]).toFixed(1)}`);
      const lower = samples.map((sample, index) => `${x(sample.t).toFixed(1)},${y(below[index]).toFixed(1)}`).reverse();
      bands.push(s('polygon', {points: upper.concat(lower).join(' '), fill: colour(state),
        class: 'band', 'data-state': state}, s('title', {}, label(state))));
    }
    above.forEach((value, index) => { below[index] = value; });
  }
  // When the campaign stood still: shaded over what was not started yet (pending), beneath the
  // bands of devices at work, with its bounds and its name on top.
  const waiting = bands.filter((band) => band.dataset.state === 'pending');
  svg.append(...waiting);
  const spans = (options.spans || []).map((span) => {
    const left = x(Math.max(span.from, start)), right = x(Math.min(Math.max(span.to, span.from), end));
    return {left, width: Math.max(right - left, 2), state: span.state};
  });
  for (const span of spans) {
    svg.append(s('rect', {x: span.left, y: TOP, width: span.width, height: plotHeight, class: `span span-${span.state}`}));
  }
  svg.append(...bands.filter((band) => band.dataset.state !== 'pending'));
  for (const span of spans) {
    svg.append(
      s('line', {x1: span.left, x2: span.left, y1: TOP, y2: TOP + plotHeight, class: `span-bound span-${span.state}`}),
      s('line', {x1: span.left + span.width, x2: span.left + span.width, y1: TOP, y2: TOP + plotHeight,
        class: `span-bound span-${span.state}`}),
      s('rect', {x: span.left, y: TOP, width: span.width, height: 3, class: `span-edge span-${span.state}`}),
      // the name inside the span, or left of its start when it begins at the right edge
      span.left + 60 < LEFT + plotWidth
        ? s('text', {x: span.left + 4, y: TOP + 16, class: 'span-label'}, span.state)
        : s('text', {x: span.left - 4, y: TOP + 16, class: 'span-label', 'text-anchor': 'end'}, span.state));
  }

  let lastLabel = Infinity; // a label too close to the one below it is left out
  for (const mark of options.marks || []) {
    if (mark.value <= 0 || mark.value > max) continue;
    svg.append(s('line', {x1: LEFT, x2: LEFT + plotWidth, y1: y(mark.value), y2: y(mark.value), class: 'mark'}));
    if (lastLabel - y(mark.value) >= 14) {
      svg.append(s('text', {x: LEFT + 4, y: y(mark.value) - 4, class: 'mark-label'}, mark.text));
      lastLabel = y(mark.value);
    }
  }
  svg.append(s('line', {x1: LEFT, x2: LEFT, y1: TOP, y2: TOP + plotHeight, class: 'axis-line'}),
    s('line', {x1: LEFT, x2: LEFT + plotWidth, y1: TOP + plotHeight, y2: TOP + plotHeight, class: 'axis-line'}));
  return svg;
}

// A bar split by state, each part as wide as its share of total (the rest left empty).
export function stackBar(counts, order, total, options = {}) {
  total = Math.max(total || 0, order.reduce((sum, state) => sum + (counts[state] || 0), 0));
  const bar = h('div', {class: ['stackbar', options.small && 'small'], role: 'img',
    'aria-label': order.map((state) => `${label(state)} ${counts[state] || 0}`).join(', ')});
  for (const state of order) {
    const n = counts[state] || 0;
    if (!n || !total) continue;
    bar.append(h('span', {style: {width: `${100 * n / total}%`, background: colour(state)},
      title: `${label(state)}: ${count(n)} (${percent(n, total)})`, 'data-state': state}));
  }
  return bar;
}

// Coloured keys with their counts under a chart; a click on one calls options.pick(state).
export function legend(counts, order, options = {}) {
  return h('ul', {class: 'legend'}, order.map((state) => h('li', {},
    h(options.pick ? 'button' : 'span', {type: options.pick ? 'button' : undefined,
      class: ['key', options.active === state && 'active'], 'data-state': state,
      onclick: options.pick ? () => options.pick(state) : undefined},
    h('i', {style: {background: colour(state)}}),
    h('span', {class: 'key-label'}, label(state)),
    h('b', {class: 'count', 'data-state': state}, count(counts[state] || 0))))));
}
