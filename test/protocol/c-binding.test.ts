/**
 * The generated C codec (firmware/gen/tl_protocol.c, per-message code) against the host's
 * descriptor-driven TypeScript codec: for every message's example and for mutations of it
 * (truncated, extended, a count or length over its maximum, random bytes), both accept or both
 * refuse, and what they accept re-encodes to the same bytes. Also the C error texts equal the
 * spec's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { decodePayload, encodePayload } from '../../host/src/protocol/codec.js';
import { ERRORS, MESSAGES } from '../../host/src/protocol/gen/protocol.js';
import { exampleFields } from '../../host/src/hwgen/protocol-doc.js';
import { loadProtocolSpec } from '../../host/src/hwgen/protocol-spec.js';
import { projectRoot } from '../../host/src/paths.js';

const spec = loadProtocolSpec();
let dir = '';
let exe = '';

/** A driver that reads "id hex" lines, decodes, re-encodes, prints "status hex". */
function driverSource(): string {
  const cases = spec.messages
    .map((m) => {
      const n = m.name.toLowerCase();
      return `    case TL_PROTO_MSG_${m.name}: { tl_proto_${n}_t v; st = tl_proto_${n}_decode(in, len, &v); if (st == TL_PROTO_OK) st = tl_proto_${n}_encode(&v, out, sizeof out, &olen); break; }`;
    })
    .join('\n');
  return `#include <stdio.h>
#include <stdlib.h>
#include "tl_protocol.h"
static uint8_t in[70000], out[70000];
static char line[150000];
int main(void) {
  unsigned id, e;
  while (fgets(line, sizeof line, stdin)) {
    char *hex;
    uint32_t len = 0, olen = 0, i;
    tl_proto_status_t st = TL_PROTO_E_ARG;
    id = (unsigned)strtoul(line, &hex, 10);
    while (*hex == ' ') hex++;
    while (hex[0] && hex[0] != '\\n' && hex[1]) { unsigned b; sscanf(hex, "%2x", &b); in[len++] = (uint8_t)b; hex += 2; }
    switch (id) {
${cases}
    default: st = TL_PROTO_E_ARG;
    }
    printf("%d ", (int)st);
    if (st == TL_PROTO_OK) for (i = 0; i < olen; i++) printf("%02x", out[i]);
    printf("\\n");
  }
  for (e = 0; e < 64u; e++) { const char *f = tl_proto_err_fix((uint16_t)e); if (f) printf("err %u %s|%s\\n", e, tl_proto_err_name((uint16_t)e), f); }
  return 0;
}
`;
}

async function runC(cases: { id: number; payload: Uint8Array }[]): Promise<{ lines: string[]; errs: string[] }> {
  const input = cases.map((c) => `${c.id} ${Buffer.from(c.payload).toString('hex')}\n`).join('');
  const { stdout } = await execa(exe, [], { input });
  const all = stdout.split('\n');
  return { lines: all.filter((l) => !l.startsWith('err ')), errs: all.filter((l) => l.startsWith('err ')) };
}

/** TypeScript's verdict in the driver's format. */
function tsVerdict(id: number, payload: Uint8Array): string {
  const m = [...Object.values(MESSAGES)].find((x) => x.id === id)!;
  try {
    return `0 ${Buffer.from(encodePayload(m, decodePayload(m, payload))).toString('hex')}`;
  } catch {
    return 'refused';
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlproto-c-'));
  fs.writeFileSync(path.join(dir, 'driver.c'), driverSource());
  exe = path.join(dir, 'driver');
  const gen = path.join(projectRoot(), 'firmware/gen');
  await execa('gcc', ['-std=c11', '-O1', '-Wall', '-Werror', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-I', gen, path.join(dir, 'driver.c'), path.join(gen, 'tl_protocol.c'), '-o', exe]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('C codec vs TypeScript codec', () => {
  const examples = spec.messages.map((m) => ({ id: m.id, payload: encodePayload(m, exampleFields(m)) }));

  it('every example decodes and re-encodes to the same bytes in C', async () => {
    const { lines } = await runC(examples);
    lines.slice(0, examples.length).forEach((l, i) => expect(l, spec.messages[i]!.name).toBe(`0 ${Buffer.from(examples[i]!.payload).toString('hex')}`));
  });

  it('both refuse truncated, extended and over-maximum payloads, and agree on random mutations (ASan/UBSan clean)', async () => {
    const cases: { id: number; payload: Uint8Array }[] = [];
    for (const e of examples) {
      if (e.payload.length > 0) cases.push({ id: e.id, payload: e.payload.subarray(0, e.payload.length - 1) });
      cases.push({ id: e.id, payload: Uint8Array.from([...e.payload, 0]) });
    }
    // A count over its maximum: PREFILL ids (after the u8 flags).
    const pre = encodePayload(MESSAGES.PREFILL, { flags: 1, ids: [] });
    new DataView(pre.buffer).setUint32(1, 16001, true);
    cases.push({ id: MESSAGES.PREFILL.id, payload: pre });
    fc.assert(
      fc.property(fc.nat(examples.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(8), (k, flips, cut) => {
        const p = examples[k]!.payload.slice(0, Math.max(0, examples[k]!.payload.length - (cut > 6 ? cut : 0)));
        for (const [at, v] of flips) if (p.length > 0) p[at % p.length] = v;
        cases.push({ id: examples[k]!.id, payload: p });
      }),
      { seed: 3, numRuns: 400 },
    );
    const { lines } = await runC(cases);
    expect(lines.length).toBe(cases.length);
    let refused = 0;
    cases.forEach((c, i) => {
      const ts = tsVerdict(c.id, c.payload);
      const cv = lines[i]!.startsWith('0 ') ? lines[i]!.trim() : 'refused';
      if (ts === 'refused') refused++;
      expect(cv, `case ${i} (${c.id}) ${Buffer.from(c.payload).toString('hex')}`).toBe(ts.trim());
    });
    expect(refused).toBeGreaterThan(2 * examples.length - 4);
  });

  it('the C error table equals the spec', async () => {
    const { errs } = await runC([]);
    expect(errs).toEqual(ERRORS.map((e) => `err ${e.code} ${e.name}|${e.fix}`));
  });
});
