// The dashboard in headless Chromium against a running cellota-server with real device agents
// (started by tests/integration/test_dashboard.sh, which passes what it started in the
// environment). What an operator does, through the page only: log in with the token, upload a
// release, start a staged campaign, pause it and see the next stage wait, resume it and watch
// it reach 100% confirmed, and read why a device whose self-test fails was counted failed.
//
//   DASHBOARD_URL   the server's base URL           CELLOTA_TOKEN  the operator's token
//   FIRMWARE        a plain image to upload          VERSION        its version
//   GOOD_DEVICES    ids that will confirm (comma separated)
//   FAILING_DEVICE  an id whose self-test fails      SCRATCH        where screenshots go
import {launch} from './browser.js';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

const base = need('DASHBOARD_URL').replace(/\/$/, '');
const token = need('CELLOTA_TOKEN');
const firmware = need('FIRMWARE');
const version = need('VERSION');
const good = need('GOOD_DEVICES').split(',').filter(Boolean);
const failing = need('FAILING_DEVICE');
const shots = join(need('SCRATCH'), 'screenshots');
const CAMPAIGN_SECONDS = Number(process.env.CAMPAIGN_SECONDS || 150);
mkdirSync(shots, {recursive: true});

function need(name) {
  if (!process.env[name]) {
    console.error(`dashboard test: ${name} is not set`);
    process.exit(2);
  }
  return process.env[name];
}

const started = Date.now();
let passed = 0;
const failures = [];

function say(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}

// check('what', async () => {...}): one named step; a failure is recorded with a screenshot and
// the steps that depend on it are skipped by the caller's own control flow (it rethrows).
async function check(page, what, body) {
  try {
    await body();
    passed++;
    say(`ok: ${what}`);
  } catch (error) {
    failures.push(what);
    say(`FAIL: ${what}: ${error.message.split('\n')[0]}`);
    await page.screenshot({path: join(shots, `failed-${failures.length}.png`), fullPage: true}).catch(() => {});
    throw error;
  }
}

async function shot(page, name) {
  await page.screenshot({path: join(shots, `${name}.png`), fullPage: true});
  say(`screenshot ${name}.png`);
}

const text = (page, selector) => page.locator(selector).first().innerText();

// Waits until the page's own DOM satisfies predicate (run in the page) or fails after seconds.
async function until(page, what, seconds, predicate, argument) {
  try {
    await page.waitForFunction(predicate, argument, {timeout: seconds * 1000, polling: 250});
  } catch (error) {
    throw new Error(`${what}: not seen within ${seconds} s`);
  }
}

// The count the campaign page's legend shows for a state.
const countOf = (page, state) => page.locator(`.legend b.count[data-state="${state}"]`).first().innerText().then(Number);

async function run(page) {
  const requests = [];
  page.on('request', (request) => requests.push({url: request.url(), at: Date.now()}));
  page.on('pageerror', (error) => { failures.push(`page error: ${error.message}`); say(`page error: ${error.message}`); });
  // The server's Content-Security-Policy (docs/security.md) must refuse nothing the dashboard does.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      failures.push(`blocked by the CSP: ${message.text()}`);
      say(`blocked by the CSP: ${message.text()}`);
    }
  });

  await check(page, 'a wrong token is refused with a sentence', async () => {
    await page.goto(`${base}/`);
    await page.fill('#token', 'not-the-token');
    await page.click('#login button[type=submit]');
    await until(page, 'the refusal', 10, () => {
      const error = document.querySelector('#login-error');
      return error && !error.hidden && /refused/.test(error.textContent);
    });
  });

  await check(page, 'logging in with the token shows the fleet summary', async () => {
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    const devices = good.length + 1;
    await until(page, `${devices} devices in the header`, 60, (n) => {
      const tile = document.querySelector('#summary-devices .tile-value');
      return tile && Number(tile.textContent) >= n;
    }, devices);
    if (!(await page.evaluate(() => sessionStorage.getItem('cellota.token')))) throw new Error('token not kept');
  });

  await check(page, 'the devices table lists every agent, online', async () => {
    await page.click('#nav a[data-view=devices]');
    for (const id of [...good, failing]) {
      await until(page, `device ${id} online`, 60, (name) => {
        const row = document.querySelector(`#devices tr[data-device="${name}"]`);
        return row && row.querySelector('.dot.on');
      }, id);
    }
    await shot(page, 'devices');
  });

  await check(page, 'a release with a bad version is refused with the server\'s sentence', async () => {
    await page.click('#nav a[data-view=releases]');
    await page.setInputFiles('#release-file', firmware);
    await page.fill('#release-version', 'one.two');
    await page.click('#release-form button[type=submit]');
    await until(page, 'the error', 10, () => {
      const error = document.querySelector('#release-error');
      return error && /BAD_VERSION/.test(error.textContent) && error.textContent.length > 'BAD_VERSION'.length + 8;
    });
    say(`  refused: ${await text(page, '#release-error')}`);
  });

  await check(page, `release ${version} uploads and is listed`, async () => {
    await page.fill('#release-version', version);
    await page.fill('#release-notes', 'browser test');
    await page.click('#release-form button[type=submit]');
    await until(page, 'the upload', 30, () => document.querySelector('#release-done'));
    await until(page, 'the listed release', 10, (v) => document.querySelector(`#releases tr[data-version="${v}"]`), version);
    await shot(page, 'releases');
  });

  let campaignUrl;
  await check(page, 'a staged campaign (50,100) starts over the good devices', async () => {
    await page.click(`#releases tr[data-version="${version}"] a.button`);
    await page.waitForSelector('#campaign-form');
    await until(page, 'the release offered', 10, (v) => document.querySelector('#campaign-release').value === v, version);
    await page.check('#campaign-form input[name=target][value=list]');
    await page.fill('#campaign-devices', good.join(', '));
    await page.fill('#campaign-stages', '50,100');
    await page.fill('#campaign-name', 'browser test rollout');
    await page.click('#campaign-start');
    await page.waitForURL(/#\/campaigns\/\d+$/, {timeout: 10000});
    campaignUrl = page.url();
    await page.waitForSelector('#stages li[data-stage="2"]');
  });

  await check(page, 'pausing holds the second stage back while the first finishes', async () => {
    const stageOne = Math.ceil(good.length * 0.5);
    // pause once the first stage's requests are out
    await until(page, 'the first stage notified', 30, (n) =>
      Number(document.querySelector('.legend b.count[data-state="pending"]').textContent) <= n, good.length - stageOne);
    await page.click('#pause');
    await until(page, 'state paused', 10, () => document.querySelector('#campaign-state [data-state=paused]'));
    await shot(page, 'campaign-paused');
    // what the first stage was sent goes on; nothing new is sent while paused
    await until(page, `the first stage's ${stageOne} devices finished`, CAMPAIGN_SECONDS, (n) => {
      const get = (state) => Number((document.querySelector(`.legend b.count[data-state="${state}"]`) || {}).textContent || 0);
      return get('confirmed') + get('failed') + get('skipped') >= n;
    }, stageOne);
    await page.waitForTimeout(3000);
    const pending = await countOf(page, 'pending');
    if (pending !== good.length - stageOne) throw new Error(`${pending} pending, expected ${good.length - stageOne}`);
    const state = await page.locator('#campaign-state .badge').getAttribute('data-state');
    if (state !== 'paused') throw new Error(`campaign is ${state}`);
  });

  await check(page, 'resuming runs the campaign to 100% confirmed', async () => {
    await page.click('#resume');
    await until(page, 'state running', 10, () =>
      document.querySelector('#campaign-state [data-state=running], #campaign-state [data-state=completed]'));
    let during = false;
    const deadline = Date.now() + CAMPAIGN_SECONDS * 1000;
    while (Date.now() < deadline) {
      const percent = await text(page, '#done-percent');
      const downloading = await countOf(page, 'downloading');
      if (!during && downloading > 0) {
        await shot(page, 'campaign-running');
        during = true;
      }
      if (percent === '100%' && await page.locator('#campaign-state [data-state=completed]').count()) break;
      await page.waitForTimeout(250);
    }
    if (await text(page, '#done-percent') !== '100%') throw new Error(`stopped at ${await text(page, '#done-percent')}`);
    const confirmed = await countOf(page, 'confirmed');
    if (confirmed !== good.length) throw new Error(`${confirmed} confirmed of ${good.length}`);
    if (!(await page.locator('#chart polygon[data-state=confirmed]').count())) throw new Error('no confirmed band in the chart');
    if (!(await page.locator('#chart rect.span-paused').count())) throw new Error('the pause is not shaded in the chart');
    if (await page.locator('#stages .badge[data-state=confirmed]').count() !== 2) throw new Error('both stages should show passed');
    say(`  bytes served: ${await text(page, '#bytes-served')}, cost: ${await text(page, '#cost-total')}`);
    // what the chart was drawn from, beside the screenshots
    const id = campaignUrl.split('/').pop();
    writeFileSync(join(shots, 'campaign-samples.json'),
      await page.evaluate((key) => sessionStorage.getItem(key) || '[]', `cellota.samples.${id}`));
    await shot(page, 'campaign-completed');
  });

  await check(page, 'the header counts the new version', async () => {
    await until(page, `${good.length} devices on ${version}`, 20, ([v, n]) => {
      const key = document.querySelector(`#summary-versions a[data-version="${v}"] b`);
      return key && Number(key.textContent) === n;
    }, [version, good.length]);
  });

  await check(page, 'a device whose self-test fails is counted failed with its sentence', async () => {
    await page.goto(`${base}/#/campaigns?new=${encodeURIComponent(version)}`);
    await page.waitForSelector('#campaign-form');
    await until(page, 'the release offered', 10, (v) => document.querySelector('#campaign-release').value === v, version);
    await page.check('#campaign-form input[name=target][value=list]');
    await page.fill('#campaign-devices', failing);
    await page.fill('#campaign-stages', '100');
    await page.click('#campaign-start');
    await page.waitForURL(/#\/campaigns\/\d+$/, {timeout: 10000});
    await until(page, 'a failure with a sentence', CAMPAIGN_SECONDS, () => {
      const row = document.querySelector('#failures tbody tr');
      return row && /self-test/.test(row.textContent);
    });
    say(`  failure: ${(await text(page, '#failures tbody tr')).replace(/\s+/g, ' ')}`);
    await shot(page, 'campaign-failure');
  });

  await check(page, 'the halted campaign says why, and aborts on a second click', async () => {
    await until(page, 'the halt and its reason', 30, () => {
      const notice = document.querySelector('#halt-reason');
      return notice && /failed/.test(notice.textContent) && document.querySelector('#campaign-state [data-state=halted]');
    });
    say(`  ${await text(page, '#halt-reason')}`);
    await page.click('#abort');
    await until(page, 'the abort asking again', 5, () => /Really/.test(document.querySelector('#abort').textContent));
    if (await page.locator('#campaign-state [data-state=aborted]').count()) throw new Error('aborted on one click');
    await page.click('#abort');
    await until(page, 'state aborted', 10, () => document.querySelector('#campaign-state [data-state=aborted]'));
    for (const button of ['#pause', '#resume', '#abort']) {
      if (!(await page.locator(button).isDisabled())) throw new Error(`${button} still enabled`);
    }
  });

  await check(page, 'the failed device\'s timeline names the error and says it in a sentence', async () => {
    await page.click(`#campaign-devices a:text-is("${failing}")`);
    await until(page, 'the timeline', 20, () => {
      const rows = [...document.querySelectorAll('#timeline tbody tr')];
      return rows.some((row) => /AGENT_SELF_TEST_FAILED/.test(row.textContent) && /self-test/.test(row.querySelector('.sentence').textContent));
    });
    await shot(page, 'device-timeline');
  });

  await check(page, 'tags are saved from the device page and filter the table', async () => {
    await page.fill('#device-tags', 'browser-test, lab');
    await page.click('#tag-form button[type=submit]');
    await until(page, 'saved', 10, () => /saved: browser-test, lab/.test(document.querySelector('#tag-form').textContent));
    await page.goto(`${base}/#/devices?tag=browser-test`);
    await until(page, 'only the tagged device', 10, (id) => {
      const rows = [...document.querySelectorAll('#devices tbody tr[data-device]')];
      return rows.length === 1 && rows[0].dataset.device === id && /browser-test/.test(rows[0].textContent);
    }, failing);
    if (await page.inputValue('#filter-tag') !== 'browser-test') throw new Error('the tag filter is not shown');
  });

  await check(page, 'the devices table filters by version', async () => {
    await page.goto(`${base}/#/devices`);
    await until(page, 'the version choice', 10, (v) => [...document.querySelectorAll('#filter-version option')].some((o) => o.value === v), version);
    await page.selectOption('#filter-version', version);
    await until(page, `only the ${good.length} devices on ${version}`, 10, ([v, n]) => {
      const rows = [...document.querySelectorAll('#devices tbody tr[data-device]')];
      return rows.length === n && rows.every((row) => row.textContent.includes(v));
    }, [version, good.length]);
    if (!page.url().includes(`version=${version}`)) throw new Error(`the filter is not in the URL: ${page.url()}`);
  });

  await check(page, 'polling stops while the tab is hidden', async () => {
    await page.goto(campaignUrl);
    await page.waitForSelector('#done-percent');
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForTimeout(1500); // a poll already under way may finish
    const before = requests.filter((r) => r.url.includes('/api/')).length;
    await page.waitForTimeout(3500);
    const after = requests.filter((r) => r.url.includes('/api/')).length;
    if (after !== before) throw new Error(`${after - before} API requests while hidden`);
    if (await text(page, '#live') !== 'paused') throw new Error('the live mark does not say paused');
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForTimeout(2000);
    if (requests.filter((r) => r.url.includes('/api/')).length === after) throw new Error('polling did not come back');
  });

  await check(page, 'an unknown campaign gets the server\'s sentence above the view', async () => {
    await page.goto(`${base}/#/campaigns/987654`);
    await until(page, 'the refusal', 10, () => {
      const problem = document.querySelector('#problem');
      return problem && !problem.hidden && /987654/.test(problem.textContent);
    });
    say(`  ${await text(page, '#problem')}`);
    await page.click('#nav a[data-view=campaigns]');
    await until(page, 'the refusal gone', 10, () => document.querySelector('#problem').hidden);
  });

  await check(page, 'a refused token sends the operator back to the login', async () => {
    await page.evaluate(() => sessionStorage.setItem('cellota.token', 'revoked'));
    await until(page, 'the login', 10, () => document.querySelector('#login') && !document.querySelector('#top:not([hidden])'));
    const message = await text(page, '#login-error');
    if (!message) throw new Error('no reason given');
  });
}

const browser = await launch();
let status = 0;
try {
  const page = browser.context.pages()[0] || await browser.context.newPage();
  page.setDefaultTimeout(15000);
  await run(page);
} catch (error) {
  status = 1;
  if (!failures.length) {
    failures.push(error.message);
    say(`FAIL: ${error.message}`);
  }
} finally {
  await browser.close();
}
if (failures.length) status = 1;
say(`dashboard: ${passed} passed, ${failures.length} failed`);
process.exit(status);
