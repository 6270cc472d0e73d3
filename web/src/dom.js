// Tiny DOM helpers: elements are built with attributes and text nodes only, never from HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

export function setRows(tbody, rows) {
  clear(tbody);
  for (const r of rows) tbody.append(r);
}
