/**
 * Property-based fuzzing of the three readers that take untrusted files (issue 11): the
 * safetensors reader, the config parser and the model image reader. Each property mutates a valid
 * input (bit flips, truncations, header / config / manifest edits with fresh checksums, arbitrary
 * JSON values) and requires that the reader either accepts it with its invariants intact or
 * refuses it with a TellmeError that a user can act on (a code other than E_INTERNAL, a fix line):
 * never another exception, a crash or a hang. Fixed seed and run counts (reproducible), with a time
 * cap per property so that a slow machine shortens the run instead of failing it. The larger
 * campaign over the CLI is bench/fuzz-campaign.ts (docs/measurements.md).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specFromConfig } from '../../host/src/checkpoint/config.js';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { parseSafetensorsHeader, readSafetensorsHeader, readTensorBytes, readTensorF32 } from '../../host/src/checkpoint/safetensors.js';
import { writeSafetensors } from '../../host/src/checkpoint/safetensors-writer.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { validateTensors } from '../../host/src/checkpoint/validate.js';
import { isTellmeError } from '../../host/src/errors.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint, encodeHeader } from '../../host/src/image/index.js';
import { openImage } from '../../host/src/image/reader.js';
import { imageTokenizer } from '../../host/src/image/tokenizer.js';
import { implausibleSpec } from '../../host/src/model/spec.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';

const SEED = 20261130;
/** Per property: fixed runs, and a time cap after which the run stops early (not a failure). */
const RUN = (numRuns: number) => ({ seed: SEED, numRuns, interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false });

let tmp: string;
let ckpt: Checkpoint;
let stBytes: Buffer;
let imageBytes: Buffer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-fuzz-'));
  const dir = path.join(tmp, 'ckpt');
  writeTestModel(dir, { preset: 'bitnet-tiny-packed' });
  ckpt = openCheckpoint(dir);
  // A small safetensors file with every kind of entry the reader handles.
  const st = path.join(tmp, 'small.safetensors');
  writeSafetensors(
    st,
    [
      { name: 'a.weight', dtype: 'BF16', shape: [3, 4], data: new Uint8Array(24).fill(0x3f) },
      { name: 'b.weight', dtype: 'U8', shape: [5], data: Uint8Array.of(1, 2, 3, 4, 5) },
      { name: 'c.scale', dtype: 'F32', shape: [1], data: new Uint8Array(new Float32Array([0.5]).buffer) },
      { name: 'd.empty', dtype: 'F16', shape: [0, 7], data: new Uint8Array(0) },
    ],
    { format: 'pt' },
  );
  stBytes = fs.readFileSync(st);
  const img = path.join(tmp, 'model.tlm');
  await convertCheckpoint(ckpt, img, { hw: loadHwConfig('kv260') });
  imageBytes = fs.readFileSync(img);
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Run fn; a thrown value must be a user-actionable TellmeError. Returns whether fn succeeded. */
function acceptsOrRefuses(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (!isTellmeError(e) || e.code === 'E_INTERNAL' || !e.fix) throw e;
    return false;
  }
}

let fileNo = 0;
function writeTmp(bytes: Uint8Array, ext: string): string {
  const f = path.join(tmp, `case-${fileNo++}${ext}`);
  fs.writeFileSync(f, bytes);
  return f;
}

/** A byte-level mutation of `base`: bit flips, a truncation, or bytes overwritten. */
const byteMutation = (base: () => Buffer) =>
  fc.oneof(
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }).map((flips) => (b: Buffer) => {
      const out = Buffer.from(b);
      for (const [pos, bit] of flips) out[pos % out.length]! ^= 1 << bit;
      return out;
    }),
    fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([pos, bytes]) => (b: Buffer) => {
      const out = Buffer.from(b);
      out.set(bytes.subarray(0, Math.max(0, out.length - (pos % out.length))), pos % out.length);
      return out;
    }),
  ).map((f) => f(base()));

/** A JSON path in `obj` and a new value (or deletion) for it. */
function editAt(obj: unknown, pick: number[], value: unknown, del: boolean): void {
  let cur = obj as Record<string, unknown>;
  for (let depth = 0; depth < pick.length; depth++) {
    if (cur === null || typeof cur !== 'object') return;
    const keys = Object.keys(cur);
    if (keys.length === 0) return;
    const k = keys[pick[depth]! % keys.length]!;
    const next = cur[k];
    if (depth === pick.length - 1 || next === null || typeof next !== 'object') {
      if (del) delete cur[k];
      else cur[k] = value;
      return;
    }
    cur = next as Record<string, unknown>;
  }
}

const jsonEdit = fc.record({
  pick: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(0, -1, -0, 0.5, 1e9, 2 ** 53, 1e300, Infinity, NaN, '96', '', null, true, [], {}),
    fc.integer({ min: -10, max: 1_000_000 }),
  ),
  del: fc.boolean(),
});

describe('safetensors reader', () => {
  it('arbitrary JSON headers: parsed with every tensor inside the file, or refused', () => {
    const entry = fc.record({ dtype: fc.oneof(fc.constantFrom('F32', 'BF16', 'U8', 'I64', 'F8_E4M3'), fc.jsonValue()), shape: fc.oneof(fc.array(fc.nat(9)), fc.jsonValue()), data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.jsonValue()) });
    const header = fc.dictionary(fc.oneof(fc.constantFrom('__metadata__', 'w'), fc.string()), fc.oneof(entry, fc.jsonValue()), { maxKeys: 4 });
    fc.assert(
      fc.property(header, fc.nat(128), (h, dataBytes) => {
        const bytes = new TextEncoder().encode(JSON.stringify(h));
        const fileSize = 8 + bytes.length + dataBytes;
        let parsed: ReturnType<typeof parseSafetensorsHeader> | null = null;
        acceptsOrRefuses(() => (parsed = parseSafetensorsHeader(bytes, 'f.safetensors', fileSize)));
        if (parsed) {
          const p = parsed as ReturnType<typeof parseSafetensorsHeader>;
          let covered = 0;
          for (const t of p.tensors) {
            expect(t.offset).toBeGreaterThanOrEqual(p.dataStart);
            expect(t.offset + t.byteLength).toBeLessThanOrEqual(fileSize);
            covered += t.byteLength;
          }
          expect(covered).toBe(fileSize - p.dataStart);
        }
      }),
      RUN(400),
    );
  });

  it('mutated files (bit flips, truncations, overwrites, header edits): read whole, or refused', () => {
    const headerEdit = jsonEdit.map((e) => () => {
      const n = Number(stBytes.readBigUInt64LE(0));
      const h = JSON.parse(stBytes.subarray(8, 8 + n).toString('utf8'));
      editAt(h, e.pick, e.value, e.del);
      const text = Buffer.from(JSON.stringify(h) ?? '');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(text.length));
      return Buffer.concat([len, text, stBytes.subarray(8 + n)]);
    });
    fc.assert(
      fc.property(fc.oneof(byteMutation(() => stBytes), headerEdit.map((f) => f())), (bytes) => {
        const file = writeTmp(bytes, '.safetensors');
        acceptsOrRefuses(() => {
          for (const t of readSafetensorsHeader(file).tensors) {
            expect(readTensorBytes(t).length).toBe(t.byteLength);
            if (t.dtype !== 'U8') readTensorF32(t);
          }
        });
        fs.rmSync(file);
      }),
      RUN(200),
    );
  });
});

describe('config parser', () => {
  it('mutated config.json values: a plausible spec whose tensors are checked, or refused', () => {
    const special = { bos: 1, eos: [2], pad: null };
    fc.assert(
      fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (edits) => {
        const config = structuredClone(ckpt.config) as Record<string, unknown>;
        for (const e of edits) editAt(config, e.pick, e.value, e.del);
        acceptsOrRefuses(() => {
          const spec = specFromConfig({ config, configFile: 'config.json', tensors: ckpt.tensors, special });
          expect(implausibleSpec(spec)).toEqual([]);
          validateTensors(spec, ckpt.tensors, { dir: ckpt.dir, configFile: 'config.json', files: [] });
        });
      }),
      RUN(600),
    );
  });
});

describe('image reader', () => {
  function manifestOf(image: Buffer): string {
    const off = Number(image.readBigUInt64LE(16));
    return image.subarray(off, off + Number(image.readBigUInt64LE(24))).toString('utf8');
  }

  /** The image with its manifest edited and stored with fresh checksums (header and manifest). */
  function withManifest(edit: (m: Record<string, unknown>) => void): Buffer {
    const off = Number(imageBytes.readBigUInt64LE(16));
    const m = JSON.parse(manifestOf(imageBytes)) as Record<string, unknown>;
    edit(m);
    const bytes = Buffer.from(JSON.stringify(m), 'utf8');
    const header = encodeHeader({ manifestOffset: off, manifestLength: bytes.length, manifestSha256: createHash('sha256').update(bytes).digest('hex'), fileLength: off + bytes.length });
    return Buffer.concat([Buffer.from(header), imageBytes.subarray(header.length, off), bytes]);
  }

  it('bit flips, truncations and overwrites are refused unless they hit unused padding', () => {
    fc.assert(
      fc.property(byteMutation(() => imageBytes), (bytes) => {
        const file = writeTmp(bytes, '.tlm');
        const ok = acceptsOrRefuses(() => {
          const image = openImage(file);
          imageTokenizer(image);
        });
        if (ok) expect(bytes.length).toBe(imageBytes.length); // a truncated image is never accepted
        fs.rmSync(file);
      }),
      RUN(80),
    );
  });

  it('manifests edited with fresh checksums: opened with a plausible spec and the weights\' constants, or refused', () => {
    const original = openImage(writeTmp(imageBytes, '.tlm'));
    fc.assert(
      fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (edits) => {
        const file = writeTmp(withManifest((m) => edits.forEach((e) => editAt(m, e.pick, e.value, e.del))), '.tlm');
        acceptsOrRefuses(() => {
          const image = openImage(file);
          expect(implausibleSpec(image.spec)).toEqual([]);
          // What the sections determine (image/manifest-checks.ts) survives only unedited.
          expect(image.manifest.numerics).toEqual(original.manifest.numerics);
          expect([image.spec.activation, image.spec.ropeTheta, image.spec.headDim]).toEqual([original.spec.activation, original.spec.ropeTheta, original.spec.headDim]);
          imageTokenizer(image);
        });
        fs.rmSync(file);
      }),
      RUN(300),
    );
  });

  it('plausible edits of the constants the weights determine (activation, RoPE base, rms_norm_eps, bounds) are refused', () => {
    type Manifest = { spec: Record<string, unknown>; numerics: Record<string, number> & { worst: { bound: number }; layers: Record<string, number>[] } };
    const layer0 = (JSON.parse(manifestOf(imageBytes)) as Manifest).numerics.layers[0]!;
    const layerFields = Object.keys(layer0).filter((k) => typeof layer0[k] === 'number' && k !== 'layer');
    const factor = fc.oneof(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.constantFrom(0.5, 2, 1 + 2 ** -40));
    const edit: fc.Arbitrary<(m: Manifest) => void> = fc.oneof(
      fc.constant((m: Manifest) => void (m.spec['activation'] = m.spec['activation'] === 'relu2' ? 'silu' : 'relu2')),
      fc.double({ min: 2, max: 1e12, noNaN: true }).map((v) => (m: Manifest) => void (m.spec['ropeTheta'] = v)),
      // In its range; image v2 records its binary32 bits (numerics.rms_norm_eps_bits), which the reader compares.
      fc.double({ min: 1e-12, max: 0.1, noNaN: true }).map((v) => (m: Manifest) => void (m.spec['rmsNormEps'] = v)),
      fc.tuple(fc.nat(), fc.constantFrom(...layerFields), factor).map(([l, k, f]) => (m: Manifest) => void (m.numerics.layers[l % m.numerics.layers.length]![k]! *= f)),
      fc.tuple(fc.constantFrom('embedding_absmax', 'final_norm_absmax', 'lm_head_row_absmax', 'logit_bound'), factor).map(([k, f]) => (m: Manifest) => void (m.numerics[k]! *= f)),
      factor.map((f) => (m: Manifest) => void (m.numerics.worst.bound *= f)),
    );
    fc.assert(
      fc.property(edit, (e) => {
        const bytes = withManifest((m) => e(m as Manifest));
        if (bytes.equals(withManifest(() => {}))) return; // the edit left every value as it was
        const file = writeTmp(bytes, '.tlm');
        expect(acceptsOrRefuses(() => openImage(file))).toBe(false);
        fs.rmSync(file);
      }),
      RUN(60),
    );
  });
});
