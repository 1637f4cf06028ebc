// SPDX-License-Identifier: LGPL-2.1-or-later
// Integers beyond 2^53: the reference hands its JSON form to JavaScript as doubles, so the
// exact literals are taken back from the policy text, in order (skipping strings and comments)
export function bigLiterals(text) {
  const out = [];
  const re = /"(?:[^"\\]|\\.)*"|\/\/[^\n]*|(\d+)/g;
  for (let m; (m = re.exec(text));)
    if (m[1] && !Number.isSafeInteger(Number(m[1]))) out.push(m[1]);
  return out;
}
export function unsafeNumbers(v, out = []) {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) out.push(v);
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => unsafeNumbers(x, out));
  return out;
}
// JSON text of V with its unsafe numbers written as the literals EXACT, in order
export function exactJson(v, exact) {
  const unsafe = unsafeNumbers(v);
  let i = 0;
  const s = JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isSafeInteger(x)
    ? `@@BIG${i++}@@` : x));
  return s.replace(/"@@BIG(\d+)@@"/g, (m, k) => (unsafe[k] < 0 ? '-' : '') + exact[k]);
}


const OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '&&', '||', '!', 'neg',
  'if-then-else', 'in', 'has', '.', 'like', 'contains', 'containsAll', 'containsAny', 'isEmpty',
  'is', 'Value', 'Var', 'Set', 'Record']);

// true when the expression E uses only operators we cover
export function exprOk(e) {
  if (Array.isArray(e)) return e.every(exprOk);
  if (e === null || typeof e !== 'object') return true;
  const [k] = Object.keys(e);
  if (!OPS.has(k)) return false;
  if (k === 'Value') return !JSON.stringify(e.Value).includes('__extn');
  if (k === 'Record') return Object.values(e.Record).every(exprOk);
  if (k === 'Set') return e.Set.every(exprOk);
  if (k === 'Var') return true;
  if (k === 'like') return exprOk(e.like.left); // the pattern is data
  return Object.values(e[k]).every((x) => typeof x !== 'object' || exprOk(x));
}

