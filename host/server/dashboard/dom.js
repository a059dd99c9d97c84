// Building the page from data. Every text the server or a device sent goes in as text, never as
// HTML: a device id or an error message is data a device chose, so it must not become markup.

const SVG = 'http://www.w3.org/2000/svg';

function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'style' && typeof value === 'object') {
      Object.assign(element.style, value);
    } else if (name in element && typeof value !== 'string' && !(element instanceof SVGElement)) {
      element[name] = value; // properties such as checked, disabled, value
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// h('td', {class: 'number'}, 'text', otherNode): an HTML element.
export function h(tag, attributes, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

// s('rect', {x: 0, ...}): an SVG element.
export function s(tag, attributes, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

// Replaces what element holds with children.
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// The label and input of one form field.
export function field(label, input, hint) {
  return h('label', {class: 'field'}, h('span', {class: 'label'}, label), input,
    hint ? h('span', {class: 'hint'}, hint) : null);
}

// A table's head: each column a title, or [title, 'number'] for a column of numbers (aligned
// right, as its cells are).
export function headings(columns) {
  return h('thead', {}, h('tr', {}, columns.map((column) => Array.isArray(column)
    ? h('th', {class: column[1]}, column[0]) : h('th', {}, column))));
}
