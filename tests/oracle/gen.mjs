#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// Differential cases for the Cedar-subset evaluator: random policy sets, entities and requests
// over the supported subset (every operator, scope form and value type, with ill-typed
// expressions on purpose so that errors are exercised too), answered by the reference engine
// (@cedar-policy/cedar-wasm). One JSON line per case on stdout:
//   {"policies": {"staticPolicies": {...}}, "entities": [...],
//    "requests": [{"principal", "action", "resource", "context", "expected": {decision, reasons, errors}}]}
//   node gen.mjs --seed N --cases N [--requests N]
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? Number(argv[i + 1]) : d; };
let seed = arg('--seed', 1) >>> 0;
const CASES = arg('--cases', 100), REQUESTS = arg('--requests', 25);

function rnd() { // mulberry32
  seed = (seed + 0x6D2B79F5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

const GROUPS = 8, USERS = 6, DOCS = 4, ACTIONS = 4;
const STRINGS = ['', 'a', 'b', 'ab', 'a*b', 'x/y', 'prod', 'dev', 'é', 'b*'];
const ATTRS = ['age', 'name', 'tags', 'admin', 'boss', 'addr', 'level', 'owner', 'path', 'n',
  's', 'flag', 'set', 'ent', 'rec', 'city', 'zip', 'missing'];
const uid = (type, id) => ({ type, id });
const ent = (type, n) => uid(type, `${type[0].toLowerCase()}${int(n)}`);
const anyEntity = () => pick([() => ent('User', USERS + 1), () => ent('Group', GROUPS + 1),
  () => ent('Doc', DOCS + 1), () => ent('Action', ACTIONS + 1), () => uid('Action', 'all')])();
// Beyond 2^53 only values that a double holds exactly and JSON.stringify prints exactly
// (5e18 = 5^19 * 2^18): sums and products of them overflow a long, or just do not.
const bigs = [0, 1, -1, 2, 7, 30, 100, 4e18, -4e18, 5e18, -5e18];

function literal(depth) {
  switch (int(depth > 1 ? 5 : 7)) {
    case 0: return chance(0.8) ? int(200) - 50 : pick(bigs);
    case 1: return pick(STRINGS);
    case 2: return chance(0.5);
    case 3: case 4: return { __entity: anyEntity() };
    case 5: return Array.from({ length: int(4) }, () => literal(depth + 1));
    default: { const r = {}; for (let i = int(3); i > 0; i--) r[pick(ATTRS)] = literal(depth + 1); return r; }
  }
}

function attrsFor(kind) {
  const a = {};
  const put = (k, v) => { if (chance(0.8)) a[k] = v; };
  if (kind === 'User') {
    put('age', int(80)); put('name', pick(STRINGS)); put('admin', chance(0.3));
    put('tags', Array.from({ length: int(4) }, () => pick(STRINGS)));
    put('boss', { __entity: ent('User', USERS) });
    put('addr', { city: pick(STRINGS), zip: int(1000) });
  } else if (kind === 'Doc') {
    put('level', int(10)); put('owner', { __entity: ent('User', USERS) }); put('path', pick(STRINGS));
  }
  if (chance(0.2)) a[pick(ATTRS)] = literal(1);
  return a;
}

function entities() {
  const out = [];
  for (let g = 0; g < GROUPS; g++) {
    const parents = [];
    for (let p = 0; p < g; p++) if (chance(0.25)) parents.push(uid('Group', `g${p}`));
    out.push({ uid: uid('Group', `g${g}`), attrs: {}, parents });
  }
  for (let u = 0; u < USERS; u++) {
    const parents = Array.from({ length: int(3) }, () => ent('Group', GROUPS + 1));
    out.push({ uid: uid('User', `u${u}`), attrs: attrsFor('User'), parents: dedup(parents) });
  }
  for (let d = 0; d < DOCS; d++)
    out.push({ uid: uid('Doc', `d${d}`), attrs: attrsFor('Doc'), parents: chance(0.5) ? [ent('Group', GROUPS)] : [] });
  for (let a = 0; a < ACTIONS; a++)
    if (chance(0.7)) out.push({ uid: uid('Action', `a${a}`), attrs: {}, parents: chance(0.6) ? [uid('Action', 'all')] : [] });
  return out;
}
const dedup = (l) => [...new Map(l.map((u) => [`${u.type}::${u.id}`, u])).values()];

const VAR = () => ({ Var: pick(['principal', 'resource', 'context', 'action', 'principal', 'context']) });
const BIN = ['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '&&', '||', 'in', 'contains',
  'containsAll', 'containsAny'];

function expr(depth) {
  if (depth >= 4 || chance(0.25)) {
    if (chance(0.4)) return { Value: literal(1) };
    if (chance(0.5)) return VAR();
    return { '.': { left: VAR(), attr: pick(ATTRS) } };
  }
  const e = () => expr(depth + 1);
  switch (int(13)) {
    case 0: case 1: case 2: case 3: return { [pick(BIN)]: { left: e(), right: e() } };
    case 4: return { [pick(['!', 'neg', 'isEmpty'])]: { arg: e() } };
    case 5: return { '.': { left: chance(0.7) ? VAR() : e(), attr: pick(ATTRS) } };
    case 6: return { has: { left: chance(0.7) ? VAR() : e(), attr: pick(ATTRS) } };
    case 7: return { like: { left: chance(0.5) ? { '.': { left: VAR(), attr: pick(['name', 'path', 's', 'city']) } } : e(), pattern: pattern() } };
    case 8: return { 'if-then-else': { if: e(), then: e(), else: e() } };
    case 9: return chance(0.5)
      ? { is: { left: e(), entity_type: pick(['User', 'Group', 'Doc', 'Action']) } }
      : { is: { left: e(), entity_type: pick(['User', 'Doc']), in: chance(0.5) ? { Value: { __entity: ent('Group', GROUPS) } } : e() } };
    case 10: return { Set: Array.from({ length: int(4) }, e) };
    case 11: { const r = {}; for (let i = int(3); i > 0; i--) r[pick(ATTRS)] = e(); return { Record: r }; }
    default: return { Value: literal(1) };
  }
}

function pattern() {
  return Array.from({ length: int(5) }, () => (chance(0.35) ? 'Wildcard' : { Literal: pick(['a', 'b', '*', '/', 'x', 'é', 'ab']) }));
}

// Mostly boolean-valued bodies, so that decisions vary; the rest exercise type errors.
function body() {
  if (chance(0.15)) return expr(1);
  const e = () => expr(2);
  switch (int(6)) {
    case 0: return { [pick(['==', '!=', '<', '>=', 'in', 'contains'])]: { left: e(), right: e() } };
    case 1: return { [pick(['&&', '||'])]: { left: body(), right: body() } };
    case 2: return { has: { left: VAR(), attr: pick(ATTRS) } };
    case 3: return { '!': { arg: body() } };
    case 4: return { [pick(['==', '<', '>='])]: { left: { '.': { left: VAR(), attr: pick(ATTRS) } }, right: { Value: literal(2) } } };
    default: return { in: { left: { Var: pick(['principal', 'resource']) }, right: { Value: { __entity: ent('Group', GROUPS) } } } };
  }
}

function scope(which) {
  const r = chance(0.3) ? 0 : int(which === 'action' ? 3 : 5);
  const typeOf = which === 'principal' ? 'User' : 'Doc';
  if (r === 0) return { op: 'All' };
  if (which === 'action') {
    if (r === 1) return { op: '==', entity: ent('Action', ACTIONS + 1) };
    return chance(0.5) ? { op: 'in', entity: pick([uid('Action', 'all'), ent('Action', ACTIONS)]) }
      : { op: 'in', entities: Array.from({ length: 1 + int(3) }, () => pick([uid('Action', 'all'), ent('Action', ACTIONS)])) };
  }
  if (r === 1) return { op: '==', entity: ent(typeOf, which === 'principal' ? USERS + 1 : DOCS + 1) };
  if (r === 2) return { op: 'in', entity: chance(0.7) ? ent('Group', GROUPS) : ent(typeOf, 3) };
  if (r === 3) return { op: 'is', entity_type: chance(0.8) ? typeOf : 'Group' };
  return { op: 'is', entity_type: typeOf, in: { entity: ent('Group', GROUPS) } };
}

function policySet() {
  const ps = {};
  for (let i = 1 + int(5); i > 0; i--) {
    const conditions = Array.from({ length: pick([0, 1, 1, 1, 2]) }, () => ({ kind: chance(0.7) ? 'when' : 'unless', body: body() }));
    ps[`p${Object.keys(ps).length}`] = { effect: chance(0.8) ? 'permit' : 'forbid',
      principal: scope('principal'), action: scope('action'), resource: scope('resource'), conditions };
  }
  return { staticPolicies: ps };
}

function context() {
  const c = {};
  if (chance(0.8)) c.n = chance(0.8) ? int(20) : pick(bigs);
  if (chance(0.7)) c.s = pick(STRINGS);
  if (chance(0.5)) c.flag = chance(0.5);
  if (chance(0.4)) c.set = Array.from({ length: int(3) }, () => pick(STRINGS));
  if (chance(0.3)) c.ent = { __entity: anyEntity() };
  if (chance(0.2)) c.rec = { city: pick(STRINGS), zip: int(5) };
  return c;
}

let skipped = 0;
for (let c = 0; c < CASES; c++) {
  const policies = policySet(), ents = entities();
  const requests = [];
  for (let r = 0; r < REQUESTS; r++) {
    const req = { principal: chance(0.9) ? ent('User', USERS + 1) : anyEntity(), action: chance(0.85) ? ent('Action', ACTIONS + 1) : uid('Action', 'all'),
      resource: chance(0.9) ? ent('Doc', DOCS + 1) : anyEntity(), context: context() };
    const ans = cedar.isAuthorized({ principal: req.principal, action: req.action, resource: req.resource,
      context: req.context, policies, entities: ents });
    if (ans.type !== 'success') { skipped++; if (process.env.GEN_DEBUG) process.stderr.write(JSON.stringify(ans.errors) + '\n'); continue; }
    const d = ans.response.diagnostics;
    requests.push({ principal: `${req.principal.type}::${JSON.stringify(req.principal.id)}`,
      action: `${req.action.type}::${JSON.stringify(req.action.id)}`,
      resource: `${req.resource.type}::${JSON.stringify(req.resource.id)}`,
      context: req.context,
      expected: { decision: ans.response.decision, reasons: [...d.reason].sort(), errors: [...new Set(d.errors.map((x) => x.policyId))].sort() } });
  }
  process.stdout.write(JSON.stringify({ policies, entities: ents, requests }) + '\n');
}
if (skipped) process.stderr.write(`gen: ${skipped} requests the reference engine refused (left out)\n`);
