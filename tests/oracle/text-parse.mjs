#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// Cedar policy texts and what the reference parser makes of them, for tests/helpers/ob-text-diff:
// one line per text, {"text", "json": "<the JSON form as text, integers exact>"} or
// {"text", "error": "<the reference's message>"}, or {"text", "outside": true} for what the
// reference takes but our subset does not (templates, extension functions: we must refuse).  Texts come from:
//   --snippets FILE   our own, separated by lines "// ----" (tests/oracle/texts.cedar)
//   --cases FILE      the Cedar-text policies of a regression file (regress.json)
//   --gen FILE        gen.mjs cases: their JSON policies written as text by the reference
//   --corpus DIR      Cedar's corpus (.cedar files; a dev run, outside the tree)
// Each whole text is given; the JSON form is {"staticPolicies": {"policy0": …}}.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bigLiterals, unsafeNumbers, exactJson, exprOk } from './exact.mjs';

const [mode, src] = process.argv.slice(2);
const failed = (a) => a.type !== 'success';

function answer(text) {
  const parts = cedar.policySetTextToParts(text);
  if (failed(parts)) return { text, error: parts.errors.map((e) => e.message).join('; ') };
  // outside the subset (templates, extension functions): ours must refuse it
  if (parts.policy_templates.length) return { text, outside: true };
  const est = {}, exact = [];
  for (const [i, p] of parts.policies.entries()) {
    const j = cedar.policyToJson(p);
    if (failed(j)) return { text, error: j.errors.map((e) => e.message).join('; ') };
    if (!exprOk(j.json.conditions.map((c) => c.body))) return { text, outside: true };
    const big = bigLiterals(p);
    if (unsafeNumbers(j.json).length !== big.length) return null;
    exact.push(...big);
    est[`policy${i}`] = j.json;
  }
  return { text, json: `{"staticPolicies":${exactJson(est, exact)}}` };
}

let texts = [];
if (mode === '--snippets')
  texts = readFileSync(src, 'utf8').split(/^\/\/ ----.*\n/m).filter((t) => t.trim());
else if (mode === '--cases')
  texts = JSON.parse(readFileSync(src, 'utf8')).map((c) => c.policies).filter((p) => typeof p === 'string');
else if (mode === '--gen')
  texts = readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => {
    const ps = JSON.parse(l).policies.staticPolicies;
    return Object.values(ps).map((p) => cedar.policyToText(p).text).join('\n');
  });
else if (mode === '--corpus')
  texts = readdirSync(src).filter((f) => f.endsWith('.cedar')).sort()
    .map((f) => readFileSync(join(src, f), 'utf8'));
else throw new Error('usage: text-parse.mjs --snippets|--cases|--gen|--corpus SRC');
let n = 0;
for (const t of texts) {
  const a = answer(t);
  if (a) { n++; process.stdout.write(JSON.stringify(a) + '\n'); }
}
process.stderr.write(`texts ${texts.length} answered ${n}\n`);
