#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// Dev tool: turns Cedar's public corpus (cedar-integration-tests, corpus-tests.tar.gz,
// unpacked OUTSIDE this tree) into cases for tests/helpers/ob-policy-diff, answered by the
// reference engine run without a schema on the JSON form of the policies.
//   node corpus.mjs CORPUS_DIR [--limit N] [--texts] > cases.jsonl
//   node corpus.mjs --cases regress.json > cases.jsonl   (our own regression cases, in the
//     tree: a list of {name, policies: Cedar text or a JSON policy set, entities, requests})
// Kept: tests whose policies use only the subset omnibase covers (no templates, no
// extension functions or values). A case the reference refuses keeps its refusal:
// "refused": "policies" | "entities", or per request "expected": {"failure": [...]}.
// Policies, entities and contexts are JSON texts inside the line (JSON strings).
// With --texts, each case also carries "text" (the corpus's own Cedar text) and "parts"
// (each policy's text and the reference's JSON for it), for the text parser's comparison.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { bigLiterals, unsafeNumbers, exactJson, exprOk } from './exact.mjs';

const args = process.argv.slice(2);
const dir = args[0] === '--cases' ? null : args[0];
const limit = args.includes('--limit') ? Number(args[args.indexOf('--limit') + 1]) : Infinity;
const withTexts = args.includes('--texts');

// Cedar's text form of an entity reference, as a command line would give it
function ref(u) {
  let s = '';
  for (const ch of u.id) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') s += '\\' + ch;
    else if (c < 0x20 || c === 0x7f) s += `\\u{${c.toString(16)}}`;
    else s += ch;
  }
  return `${u.type}::"${s}"`;
}

const failed = (a) => a.type !== 'success';
const messages = (a) => a.errors.map((e) => e.message);

// The JSON form of the policy text TEXT: {est, texts, exact}, or null outside our subset.
function textToJson(text) {
  const parts = cedar.policySetTextToParts(text);
  if (failed(parts) || parts.policy_templates.length) return null;
  const est = {}, texts = [], exact = [];
  for (const [i, p] of parts.policies.entries()) {
    const j = cedar.policyToJson(p);
    if (failed(j) || !exprOk(j.json.conditions.map((c) => c.body))) return null;
    const big = bigLiterals(p);
    if (unsafeNumbers(j.json).length !== big.length) return null;
    exact.push(...big);
    est[`policy${i}`] = j.json;
    texts.push({ text: p, json: JSON.parse(exactJson(j.json, big)) });
  }
  return { est, texts, exact };
}

// One test (policies as Cedar text, or a JSON policy set) as a line for ob-policy-diff, or null.
function caseLine(name, policyInput, entities, requests) {
  const fromText = typeof policyInput === 'string';
  const conv = fromText ? textToJson(policyInput) : { est: policyInput.staticPolicies, texts: [], exact: [] };
  if (!conv) return null;
  const { est, texts, exact } = conv;
  if (JSON.stringify(entities).includes('__extn') || unsafeNumbers(entities).length) return null;
  if (requests.some((r) => JSON.stringify(r.context).includes('__extn') || unsafeNumbers(r.context).length)) return null;
  // the reference reads the JSON form unless JavaScript cannot carry its numbers exactly
  const policies = { staticPolicies: exact.length ? policyInput : est };
  // JSON documents travel as strings: their keys may hold NUL, which a JSON line reader may refuse
  const out = { name, entities: JSON.stringify(entities) };
  if (withTexts && fromText) { out.text = policyInput; out.parts = texts; }
  if (failed(cedar.checkParsePolicySet(policies))) out.refused = 'policies';
  else if (failed(cedar.checkParseEntities({ entities }))) out.refused = 'entities';
  out.requests = requests.map((r) => {
    const ans = cedar.isAuthorized({ principal: r.principal, action: r.action, resource: r.resource,
      context: r.context, policies, entities });
    const expected = failed(ans) ? { failure: messages(ans) }
      : { decision: ans.response.decision, reasons: [...ans.response.diagnostics.reason].sort(),
        errors: [...new Set(ans.response.diagnostics.errors.map((x) => x.policyId))].sort() };
    return { principal: ref(r.principal), action: ref(r.action), resource: ref(r.resource),
      context: JSON.stringify(r.context), expected };
  });
  // the policies written by hand for their exact integers
  out.policies = `{"staticPolicies":${exactJson(est, exact)}}`;
  return JSON.stringify(out);
}

let seen = 0, kept = 0;
const emit = (line) => { if (line) { kept++; process.stdout.write(line + '\n'); } };
if (!dir) {
  for (const c of JSON.parse(readFileSync(args[1], 'utf8'))) {
    seen++;
    const line = caseLine(c.name, c.policies, c.entities, c.requests);
    if (!line) throw new Error(`${c.name}: outside the subset`);
    emit(line);
  }
} else {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.entities.json')).sort();
  for (const f of files) {
    if (kept >= limit) break;
    const t = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (!t.policies || !t.requests) continue;
    seen++;
    const base = dirname(dir);
    emit(caseLine(f, readFileSync(join(base, t.policies), 'utf8'),
      JSON.parse(readFileSync(join(base, t.entities), 'utf8')), t.requests));
  }
}
process.stderr.write(`tests ${seen} extracted ${kept}\n`);
