// The dashboard's pure pieces under node's own test runner, without a browser: stage parsing,
// version order, how numbers and times read, and the campaign history behind the chart. The
// dashboard's files are plain ES modules served as they are; node is told so by a package.json
// placed beside a copy of them.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), '../../host/server/dashboard');
const copy = mkdtempSync(join(process.env.SCRATCH || tmpdir(), 'dashboard-modules-'));
cpSync(source, copy, {recursive: true});
writeFileSync(join(copy, 'package.json'), '{"type":"module"}\n');
const load = (name) => import(pathToFileURL(join(copy, name)).href);
const format = await load('format.js');
const {parseStages} = await load('campaigns.js');
const {compareVersions} = await load('summary.js');
const history = await load('history.js');
const {tone} = await load('states.js');
rmSync(copy, {recursive: true, force: true});

test('stages: cumulative whole percentages ending at 100', () => {
  assert.deepEqual(parseStages('1,10,100'), [1, 10, 100]);
  assert.deepEqual(parseStages(' 50, 100 '), [50, 100]);
  assert.deepEqual(parseStages('100'), [100]);
  assert.throws(() => parseStages(''), /at least one stage/);
  assert.throws(() => parseStages('10,5,100'), /more devices than the one before/);
  assert.throws(() => parseStages('10,50'), /last stage must be 100/);
  assert.throws(() => parseStages('0,100'), /outside 1\.\.100/);
  assert.throws(() => parseStages('1.5,100'), /not a whole percentage/);
});

test('versions: semantic-version precedence, newest last', () => {
  const sorted = ['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '1.2.1', '2.0.0'].sort(compareVersions);
  assert.deepEqual(sorted, ['0.9.9', '1.2.0-rc.1', '1.2.0', '1.2.1', '1.10.0', '2.0.0']);
  assert.equal(compareVersions('1.0.0+build.7', '1.0.0'), 0);
});

test('numbers, sizes, money and times read as a person says them', () => {
  assert.equal(format.bytes(0), '0 B');
  assert.equal(format.bytes(24592), '24.0 KiB');
  assert.equal(format.bytes(3 * 1024 * 1024), '3.00 MiB');
  assert.equal(format.bytes(150 * 1024 * 1024), '150 MiB');
  assert.equal(format.count(50000), '50,000');
  assert.equal(format.percent(2, 3), '67%');
  assert.equal(format.percent(1, 50000), '<0.1%');
  assert.equal(format.percent(4999, 5000), '>99.9%');
  assert.equal(format.percent(995, 1000), '99.5%');
  assert.equal(format.percent(3, 3), '100%');
  assert.equal(format.percent(49, 500), '9.8%');
  assert.equal(format.percent(0, 0), '0%');
  assert.equal(format.usd(2.2345), '$2.23');
  assert.equal(format.usd(0.04), '$0.0400');
  assert.equal(format.usd(0.00001), '< $0.0001');
  assert.equal(format.hex(4096), '0x00001000');
  const now = Date.parse('2026-12-07T10:00:00Z');
  assert.equal(format.ago('2026-12-07T09:59:48Z', now), '12 s ago');
  assert.equal(format.ago('2026-12-07T09:57:00Z', now), '3 min ago');
  assert.equal(format.ago('2026-12-05T10:00:00Z', now), '2 d ago');
  assert.equal(format.ago(null, now), 'never');
  assert.equal(format.duration(3725), '1 h 2 min');
});

test('state colours: each state belongs to the family that says what it means', () => {
  assert.equal(tone('confirmed'), 'good');
  assert.equal(tone('rolled_back'), 'bad');
  assert.equal(tone('failed'), 'bad');
  assert.equal(tone('downloading'), 'moving');
  assert.equal(tone('rebooting'), 'installing');
  assert.equal(tone('paused'), 'waiting');
  assert.equal(tone('something new'), 'idle');
});

test('history: runs of equal samples keep their ends; pauses become spans', () => {
  const samples = [];
  const counts = (confirmed, pending) => ({confirmed, pending});
  history.record(7, samples, 1000, counts(0, 3), 'running');
  history.record(7, samples, 2000, counts(1, 2), 'running');
  history.record(7, samples, 3000, counts(1, 2), 'paused');
  history.record(7, samples, 4000, counts(1, 2), 'paused');
  history.record(7, samples, 5000, counts(1, 2), 'paused');
  history.record(7, samples, 6000, counts(3, 0), 'running');
  history.record(7, samples, 5500, counts(0, 0), 'running'); // older than the last: ignored
  assert.deepEqual(samples.map((sample) => sample.t), [1000, 2000, 3000, 5000, 6000]);
  assert.deepEqual(history.stops(samples), [{from: 3000, to: 6000, state: 'paused'}]);
});

test('history: a campaign opened late starts from its devices\' last changes', () => {
  const campaign = {created_at: '2026-12-07T10:00:00Z', targeted: 3};
  const samples = history.reconstruct(campaign, [
    {state: 'confirmed', updated_at: '2026-12-07T10:00:20Z'},
    {state: 'failed', updated_at: '2026-12-07T10:00:10Z'},
    {state: 'pending', updated_at: '2026-12-07T10:00:00Z'},
  ]);
  assert.deepEqual(samples.map((sample) => sample.counts), [
    {pending: 3}, {pending: 2, failed: 1}, {pending: 1, failed: 1, confirmed: 1}]);
  assert.equal(samples[1].t, Date.parse('2026-12-07T10:00:10Z'));
});
