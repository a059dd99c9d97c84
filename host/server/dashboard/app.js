// The dashboard's entry: the login, the header with the fleet's summary, a router over the URL's
// hash (#/campaigns, #/campaigns/7, #/devices, #/devices/ID, #/releases) and the poll that keeps
// what is on screen current: every 1.5 s while the tab is visible, never two polls at once,
// paused while the tab is hidden. A view is {refresh(summary), destroy()}: refresh gets the
// promise of this poll's /api/summary and resolves once the view shows the new state.
import {ApiError, forgetToken, get, setToken, token} from './api.js';
import {h, replace} from './dom.js';
import {renderSummary} from './summary.js';
import * as campaigns from './campaigns.js';
import * as campaign from './campaign.js';
import * as devices from './devices.js';
import * as device from './device.js';
import * as releases from './releases.js';

const POLL_MS = 1500;

const main = document.getElementById('main');
const top = document.getElementById('top');
const summary = document.getElementById('summary');
const live = document.getElementById('live');
const problem = document.getElementById('problem');

// What the server refused for this view (an unknown id, a server error): said above the view.
function showProblem(failure) {
  problem.hidden = !failure;
  replace(problem, failure ? [h('b', {}, failure.name), ' ', failure.message] : []);
}

let view = null;       // the mounted view
let generation = 0;    // bumped at each navigation, so a late answer for an old view is dropped
let timer = null;
let polling = false;
let asked = false;     // a poll was asked for while one was under way: run it right after

// '#/devices/dev-01?state=failed' -> {parts: ['devices', 'dev-01'], query: URLSearchParams}
function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, search] = hash.split('?');
  return {parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search || '')};
}

function pick({parts}) {
  switch (parts[0]) {
    case 'campaigns': return parts[1] ? [campaign, parts[1]] : [campaigns, null];
    case 'devices': return parts[1] ? [device, parts[1]] : [devices, null];
    case 'releases': return [releases, null];
    default: return null;
  }
}

function showLogin(message) {
  stopPolling();
  showProblem(null);
  view = null;
  top.hidden = true;
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'current-password',
    required: true, autofocus: true, placeholder: 'bearer token'});
  const error = h('p', {class: 'alert bad', id: 'login-error', hidden: !message}, message || '');
  const button = h('button', {type: 'submit', class: 'primary'}, 'Log in');
  const form = h('form', {class: 'login card', id: 'login'},
    h('h1', {}, h('span', {class: 'brand'}, 'cellota'), ' fleet console'),
    h('label', {class: 'field'}, h('span', {class: 'label'}, 'Operator token'), input,
      h('span', {class: 'hint'}, 'cellota-server prints it on its first start and keeps it in its store (',
        h('code', {}, 'cellota-store/token'), '), unless it was given with ', h('code', {}, '--token'), '.')),
    error, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    setToken(input.value.trim());
    try {
      await get('/api/summary');
      start();
    } catch (failure) {
      forgetToken();
      error.hidden = false;
      error.textContent = failure.status === 401 ? 'The server refused this token.' : failure.message;
      button.disabled = false;
      input.select();
    }
  });
  replace(main, form);
  input.focus();
}

function setLive(ok, message) {
  live.classList.toggle('down', !ok);
  live.classList.toggle('paused', ok === 'paused');
  live.textContent = ok === 'paused' ? 'paused' : ok ? 'live' : 'no answer';
  live.title = message || (ok === 'paused' ? 'Polling stops while the tab is hidden'
    : 'The page asks the server for news every 1.5 s while it is visible');
}

async function poll() {
  timer = null;
  if (document.hidden || !token()) {
    setLive('paused');
    return;
  }
  if (polling) {
    asked = true;
    return;
  }
  polling = true;
  const mine = generation;
  try {
    // one summary per poll, for the header and for the view that wants it too
    const fleet = get('/api/summary');
    await Promise.all([fleet.then((answer) => renderSummary(summary, answer)), view && view.refresh(fleet)]);
    if (mine === generation) {
      setLive(true);
      showProblem(null);
    }
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return; // the login is up
    if (failure instanceof ApiError && failure.status !== 0) {
      setLive(true); // the server answered; it refused
      if (mine === generation) showProblem(failure);
    } else {
      setLive(false, failure.message);
    }
    if (!(failure instanceof ApiError)) console.error(failure);
  } finally {
    polling = false;
  }
  schedule(asked ? 0 : POLL_MS);
  asked = false;
}

function schedule(delay = POLL_MS) {
  if (timer) clearTimeout(timer);
  timer = null;
  if (token() && !document.hidden) timer = setTimeout(poll, delay);
}

function stopPolling() {
  if (timer) clearTimeout(timer);
  timer = null;
}

// Shows the view the URL names; its first refresh runs at once.
function navigate() {
  if (!token()) return showLogin();
  const target = pick(route());
  if (!target) {
    location.replace('#/campaigns');
    return;
  }
  const [module, id] = target;
  generation++;
  showProblem(null);
  if (view && view.destroy) view.destroy();
  top.hidden = false;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('current', link.dataset.view === route().parts[0]);
  }
  replace(main);
  view = module.mount(main, id, {query: route().query, refreshNow: () => schedule(0)});
  schedule(0);
}

function start() {
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    location.replace('#/campaigns'); // its hashchange navigates
    return;
  }
  navigate();
}

window.addEventListener('hashchange', navigate);
// A 401 while logged in: the token was changed or revoked (the login form reports its own).
window.addEventListener('cellota:unauthorized', (event) => {
  if (!top.hidden) showLogin(`${event.detail} Log in again.`);
});
document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    stopPolling();
    setLive('paused');
  } else if (token()) {
    schedule(0);
  }
});
document.getElementById('logout').addEventListener('click', () => {
  forgetToken();
  showLogin();
});

start();
