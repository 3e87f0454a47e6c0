/**
 * Known answers of the converter's output (the writing side: writer.ts, write-weights.ts,
 * write-embedding.ts, write-ternary-head.ts, pack.ts, convert-inputs.ts, elements.ts): five small
 * models, each converted inside its own test, and every byte of the image compared with
 * test/image/writer-kat.json — the header fields, each section's offset, size and sha256 (computed
 * here from the file's bytes), a sha256 per top-level manifest field, and the progress reports.
 * The five cover the branches of the writer: packed and master weights, tied and untied heads,
 * binary32 and binary16 norms (paper beats carrying the norms), the ternary-shortlist head, small
 * row chunks (rows of one tile spread over several chunks). None has a tokenizer: rendering its
 * chat template (a worker thread with a 10 s limit) is most of a conversion's time and can pass
 * that limit under mutation testing's load; writer-tokenizer.test.ts checks the tokenizer files.
 * roundtrip.test.ts checks the same sections against independent computations; this file pins
 * the result, so a change anywhere in the writer shows here as the section or field it changed.
 * Regenerate (only with a change to docs/image-format.md or docs/numerics.md that explains it):
 *   TELLME_WRITER_KAT=write npx vitest run test/image/writer-kat.test.ts
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import type { LoadedHwConfig } from '../../host/src/hwconfig/types.js';
import { convertCheckpoint } from '../../host/src/image/index.js';
import { projectRoot } from '../../host/src/paths.js';
import { testModel, tmpDir } from './helpers.js';

const FIXTURE = path.join(projectRoot(), 'test/image/writer-kat.json');
const WRITE = process.env.TELLME_WRITER_KAT === 'write';

const sha16 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

function shortlistBuild(k: number): LoadedHwConfig {
  const base = loadHwConfig('kv260');
  return hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: k } }, 'kv260 with lm_head ternary-shortlist');
}

interface Case {
  name: string;
  model: () => Checkpoint;
  hw: () => LoadedHwConfig;
  context?: number;
  chunkRows?: number;
  /** Only where the model does not fit the build (the others convert without it). */
  force?: true;
}

const CASES: Case[] = [
  // 2B-4T semantics: packed U8 weights, tied head, GQA, ReLU², sub-norms; dense beats over 4 lanes, binary32 norms.
  { name: 'bitnet-tiny-packed without tokenizer, kv260', model: () => testModel({ preset: 'bitnet-tiny-packed', tokenizer: false }), hw: () => loadHwConfig('kv260') },
  // 1bitLLM semantics: float32 masters, untied, SiLU; paper beats over 3 lanes carrying binary16 norms (some inexact), host binary32 norms.
  { name: '1bitllm-tiny without tokenizer, kv260-paper', model: () => testModel({ preset: '1bitllm-tiny', tokenizer: false }), hw: () => loadHwConfig('kv260-paper'), context: 24, force: true },
  // roundtrip.test.ts's shape whose paper beats carry the norms (binary16, from an offset per tile), one layer.
  { name: '1bitllm-tiny, paper-carried shape, one layer, kv260-paper', model: () => testModel({ preset: '1bitllm-tiny', tokenizer: false, hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 1, vocab: 300 }), hw: () => loadHwConfig('kv260-paper'), context: 24, force: true },
  // HF1BitLLM semantics: packed weights with inverted scales, untied, no sub-norms, no tokenizer; ternary-shortlist head, 7-row chunks.
  { name: 'hf1bitllm-tiny without tokenizer, kv260 ternary-shortlist, chunks of 7 rows', model: () => testModel({ preset: 'hf1bitllm-tiny', tokenizer: false }), hw: () => shortlistBuild(16), chunkRows: 7, context: 40 },
  // bf16 masters, tied: the ternary head from the embedding's float values; 5-row chunks.
  { name: 'bitnet-tiny-master without tokenizer, kv260 ternary-shortlist, chunks of 5 rows', model: () => testModel({ preset: 'bitnet-tiny-master', tokenizer: false }), hw: () => shortlistBuild(8), chunkRows: 5, context: 33 },
];

/** What pins a converted image: header fields, sections (from the file's bytes), manifest fields, progress. */
function digest(file: string, ckpt: Checkpoint, progress: string[]): Record<string, unknown> {
  const buf = fs.readFileSync(file);
  const manifestOffset = Number(buf.readBigUInt64LE(16));
  const manifestLength = Number(buf.readBigUInt64LE(24));
  const manifest = JSON.parse(buf.subarray(manifestOffset, manifestOffset + manifestLength).toString('utf8')) as Record<string, unknown>;
  // The two fields that depend on where and with which tellme the test runs.
  const source = manifest.source as Record<string, unknown>;
  expect(source.path).toBe(ckpt.dir);
  source.path = '<checkpoint dir>';
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
  expect(manifest.converter).toEqual({ name: 'tellme convert', version: pkg.version });
  delete manifest.converter;
  const sections: Record<string, string> = {};
  for (const s of manifest.sections as { name: string; offset: number; size: number }[]) {
    sections[s.name] = `${s.offset}+${s.size} ${sha16(buf.subarray(s.offset, s.offset + s.size))}`;
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(manifest)) fields[k] = sha16(JSON.stringify(v));
  return {
    header: {
      magic: buf.subarray(0, 8).toString('hex'),
      version: buf.readUInt32LE(8),
      headerBytes: buf.readUInt32LE(12),
      manifestOffset,
      fileLengthMinusManifest: Number(buf.readBigUInt64LE(64)) - manifestLength,
      alignment: buf.readUInt32LE(72),
      bytes0to16AndReserved: sha16(Buffer.concat([buf.subarray(0, 16), buf.subarray(72, 96)])),
    },
    // Everything between the header and the manifest: the sections and the zero padding around them.
    dataArea: sha16(buf.subarray(128, manifestOffset)),
    sections,
    manifest: fields,
    progress,
  };
}

function readFixture(): Record<string, unknown> {
  if (!fs.existsSync(FIXTURE)) throw new Error(`${FIXTURE} is missing: regenerate it with TELLME_WRITER_KAT=write npx vitest run test/image/writer-kat.test.ts`);
  return JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
}

describe('the converter writes the known bytes', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const ckpt = c.model();
      const out = path.join(tmpDir('kat'), 'model.tlm');
      const progress: string[] = [];
      const t0 = performance.now();
      const r = await convertCheckpoint(ckpt, out, {
        hw: c.hw(),
        force: c.force ?? false,
        progress: (done, total, what) => progress.push(`${done}/${total} ${what}`),
        ...(c.context !== undefined ? { context: c.context } : {}),
        ...(c.chunkRows !== undefined ? { chunkRows: c.chunkRows } : {}),
      });
      const elapsed = (performance.now() - t0) / 1000;
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.seconds).toBeLessThanOrEqual(elapsed);
      expect(r.path).toBe(out);
      expect(r.fileBytes).toBe(fs.statSync(out).size);
      const got = digest(out, ckpt, progress);
      if (WRITE) {
        const all = fs.existsSync(FIXTURE) ? readFixture() : {};
        all[c.name] = got;
        fs.writeFileSync(FIXTURE, `${JSON.stringify(all, null, 1)}\n`);
        return;
      }
      expect(got, `${c.name}: differs from test/image/writer-kat.json`).toEqual(readFixture()[c.name]);
    });
  }
});
