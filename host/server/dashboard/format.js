// How numbers, sizes, times and money read on screen.

export function count(n) {
  return Number(n || 0).toLocaleString('en-US');
}

export function bytes(n) {
  n = Number(n || 0);
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

export function usd(n) {
  n = Number(n || 0);
  if (n > 0 && n < 0.0001) return '< $0.0001';
  return n < 1 ? `$${n.toFixed(4)}` : `$${n.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2})}`;
}

// A share that never rounds to 0% or 100% unless it is: 4,999 of 5,000 is not done.
export function percent(part, whole) {
  if (!whole) return '0%';
  const value = 100 * part / whole;
  if (value === 0 || value === 100) return `${value}%`;
  if (value < 0.1) return '<0.1%';
  if (value > 99.9) return '>99.9%';
  if (value < 10 || value > 99) return `${value.toFixed(1)}%`;
  return `${Math.round(value)}%`;
}

export function hex(n) {
  return '0x' + Number(n || 0).toString(16).padStart(8, '0');
}

export function shortHash(text) {
  return text ? text.slice(0, 12) : '';
}

// "2026-12-07 09:30:12" in the browser's time zone, for a title or a timeline.
export function dateTime(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  const two = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

// "12 s ago", "3 min ago", "2 h ago", "5 d ago".
export function ago(text, now = Date.now()) {
  if (!text) return 'never';
  const seconds = Math.max(0, Math.round((now - new Date(text).getTime()) / 1000));
  if (Number.isNaN(seconds)) return text;
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

// "4 min 5 s", for how long something took.
export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor(seconds / 60) % 60} min`;
}
