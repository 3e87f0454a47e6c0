/**
 * Poisoned images (issue 11): a model image whose sections or manifest were rewritten with fresh
 * checksums passes the reader's checksum check, so opening it checks values (image/
 * manifest-checks.ts): a NaN in the embedding or a norm, a negative head row scale, and a RoPE
 * table that does not match rope_theta (or a rope_theta edited alone) are refused by every
 * command that opens the image (inspect, generate) instead of producing null logits.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageManifest } from '../../host/src/image/manifest.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { readManifest, rewriteManifest } from '../image/helpers.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

let tmp: string;
let image: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-pimg-'));
  writeTestModel(path.join(tmp, 'ckpt'), { preset: 'bitnet-tiny-packed' });
  image = path.join(tmp, 'base.tlm');
  expect((await tellme('convert', path.join(tmp, 'ckpt'), '-o', image)).exitCode).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the image with bytes of section `name` overwritten at `at`, its checksum recomputed. */
function withSectionBytes(tag: string, name: string, at: number, bytes: Uint8Array): string {
  const file = path.join(tmp, `${tag}.tlm`);
  fs.copyFileSync(image, file);
  const rec = (readManifest(file) as unknown as ImageManifest).sections.find((s) => s.name === name)!;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, rec.offset + at);
  const section = Buffer.alloc(rec.size);
  fs.readSync(fd, section, 0, rec.size, rec.offset);
  fs.closeSync(fd);
  const sha = createHash('sha256').update(section).digest('hex');
  rewriteManifest(file, (m) => void ((m as unknown as ImageManifest).sections.find((s) => s.name === name)!.sha256 = sha));
  return file;
}

const f32 = (v: number) => new Uint8Array(new Float32Array([v]).buffer);

async function refused(file: string, words: RegExp) {
  for (const args of [['inspect', file], ['generate', file, '--ids', '1,2', '-n', '1', '--threads', '1']]) {
    const r = await tellme(...args);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ERROR_STYLE);
    expect(r.stderr).toMatch(words);
  }
}

describe('values of a re-checksummed image', () => {
  it('the unmodified image generates', async () => {
    expect((await tellme('generate', image, '--ids', '1,2', '-n', '1', '--threads', '1')).exitCode).toBe(0);
  });

  it('a NaN or infinity in the embedding', async () => {
    await refused(withSectionBytes('emb-nan', 'embedding', 10, Uint8Array.of(0xc0, 0x7f)), /embedding element 5 is NaN/);
    await refused(withSectionBytes('emb-inf', 'embedding', 10, Uint8Array.of(0x80, 0xff)), /embedding element 5 is infinite/);
  });

  it('a NaN in a norm, a negative head row scale', async () => {
    await refused(withSectionBytes('norm', 'norms.L1.post_attention', 8, f32(NaN)), /section norms.L1.post_attention element 2 is NaN/);
    await refused(withSectionBytes('head', 'lm_head.scale', 12, f32(-1)), /lm_head.scale\[3\] is -1/);
  });

  it('a RoPE table that rope_theta does not give, and rope_theta edited alone', async () => {
    await refused(withSectionBytes('rope', 'rope', 4 * 100, f32(0.25)), /spec.ropeTheta 500000 \(head_dim 16\) does not give the image's RoPE table/);
    const theta = path.join(tmp, 'theta.tlm');
    fs.copyFileSync(image, theta);
    rewriteManifest(theta, (m) => void ((m as unknown as ImageManifest).spec.ropeTheta = 10000));
    await refused(theta, /spec.ropeTheta 10000 \(head_dim 16\) does not give the image's RoPE table/);
  });
});
