// The operator's JSON API (docs/server.md), with the bearer token the operator logged in with.
// The token lives in sessionStorage: it is gone when the tab closes, and never in a URL. Any 401
// forgets it and tells the page (the "cellota:unauthorized" event), which shows the login again.

const TOKEN_KEY = 'cellota.token';

export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// "?a=1&b=x" from an object, leaving out empty values.
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters || {})) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// request('GET', '/api/summary') -> the parsed JSON answer; throws ApiError with the server's
// own error name and sentence when it refuses.
export async function request(method, path, body, contentType) {
  const headers = {Authorization: `Bearer ${token()}`};
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
    headers['Content-Type'] = contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, {method, headers, body: payload, cache: 'no-store'});
  } catch (error) {
    throw new ApiError(0, 'UNREACHABLE', 'The server does not answer; is cellota-server running?');
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    answer = null;
  }
  if (response.status === 401) {
    forgetToken();
    window.dispatchEvent(new CustomEvent('cellota:unauthorized',
      {detail: (answer && answer.message) || 'The token was refused.'}));
  }
  if (!response.ok) {
    const name = (answer && answer.error) || `HTTP_${response.status}`;
    const message = (answer && answer.message) || `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(response.status, name, message);
  }
  return answer;
}

export const get = (path) => request('GET', path);
export const post = (path, body, contentType) => request('POST', path, body, contentType);
export const put = (path, body) => request('PUT', path, body);
