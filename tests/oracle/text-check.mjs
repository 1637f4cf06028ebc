#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// The policies as omnibase writes them back in Cedar's text syntax (what `caps review`
// shows), parsed by the reference engine and asked the same requests: every answer must be
// the one the original JSON policies got.
//   node text-check.mjs CASES.jsonl TEXTS.jsonl   (TEXTS from ob-policy-diff)
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readFileSync } from 'node:fs';

const [casesFile, textsFile] = process.argv.slice(2);
const lines = (f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const cases = lines(casesFile), texts = lines(textsFile);
const ref = (s) => { const i = s.indexOf('::"'); return { type: s.slice(0, i), id: JSON.parse(s.slice(i + 2)) }; };
let n = 0, bad = 0;
cases.forEach((c, k) => {
  for (const r of c.requests) {
    n++;
    const ans = cedar.isAuthorized({ principal: ref(r.principal), action: ref(r.action), resource: ref(r.resource),
      context: r.context, policies: { staticPolicies: texts[k] }, entities: c.entities });
    const got = ans.type === 'success'
      ? { decision: ans.response.decision, reasons: [...ans.response.diagnostics.reason].sort(),
          errors: [...new Set(ans.response.diagnostics.errors.map((x) => x.policyId))].sort() }
      : { failure: ans.errors.map((e) => e.message) };
    if (JSON.stringify(got) !== JSON.stringify(r.expected) && ++bad <= 5)
      process.stderr.write(`MISMATCH case ${k + 1}: ${JSON.stringify(got)} expected ${JSON.stringify(r.expected)}\n  ${JSON.stringify(texts[k])}\n`);
  }
});
console.log(`text requests ${n} mismatches ${bad}`);
process.exit(bad ? 1 : 0);
