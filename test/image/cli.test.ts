/** tellme convert and tellme inspect <image>: the command contract (summary, JSON, errors). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register as registerConvert, runConvert } from '../../host/src/cli/commands/convert.js';
import { inspectImage, register as registerInspect } from '../../host/src/cli/commands/inspect.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { expectTellme, testModel, tmpDir } from './helpers.js';

function program(): Command {
  const p = new Command();
  p.exitOverride();
  registerConvert(p);
  registerInspect(p);
  return p;
}

async function capture(fn: () => Promise<unknown> | unknown): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((s: string | Uint8Array) => {
    out += typeof s === 'string' ? s : Buffer.from(s).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('tellme convert', () => {
  it('writes the image and prints a summary (text and --json)', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    const out = path.join(tmpDir('cli'), 'tiny.tlm');
    let text = '';
    const s = await runConvert({ model: ckpt.dir, board: 'kv260', output: out, progress: false }, (x) => (text += x));
    expect(fs.existsSync(out)).toBe(true);
    expect(s.bytes).toBe(fs.statSync(out).size);
    expect(s.hash).toBe(loadHwConfig('kv260').hash);
    expect(s.by_kind['weights']!.sections).toBe(2 * 7 * 4);
    expect(s.weight_bytes_per_token).toBeGreaterThan(s.ideal_weight_bytes_per_token);
    expect(s.peak_rss_bytes).toBeGreaterThan(0);
    expect(s.fits).toBe(true);
    for (const f of ['model image for kv260', 'weights/token', 'URAM', 'DDR', 'numerics', 'peak RSS']) expect(text).toContain(f);

    const json = await capture(() => program().parseAsync(['node', 'tellme', 'convert', '-m', ckpt.dir, '-b', 'kv260', '-o', out, '--json', '--context', '64']));
    const j = JSON.parse(json) as Record<string, unknown>;
    expect(j['context']).toBe(64);
    expect(j['image']).toBe(out);
  });

  it('refuses a model that does not fit unless --force, and names the fix', async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny' });
    const out = path.join(tmpDir('cli'), 'paper.tlm');
    const err = await expectTellme(() => runConvert({ model: ckpt.dir, board: 'kv260-paper', output: out, progress: false }, () => {}), 'E_FIT', 'does not fit kv260-paper');
    expect(err.fix).toContain('--force');
    expect(fs.existsSync(out)).toBe(false);
    let text = '';
    await runConvert({ model: ckpt.dir, board: 'kv260-paper', output: out, force: true, progress: false }, (x) => (text += x));
    expect(text).toContain('DOES NOT FIT');
    expect(text).not.toContain('binary16 norms'); // bf16 norms in [0.8, 1.2] are exact in binary16: nothing to report
  });
});

describe('tellme inspect <image>', () => {
  it('describes the image, says the checksums were verified, lists sections; --json; --board', async () => {
    const ckpt = testModel({ preset: '1bitllm-tiny' });
    const out = path.join(tmpDir('cli'), 'i.tlm');
    await runConvert({ model: ckpt.dir, board: 'kv260', output: out, progress: false }, () => {});
    let text = '';
    inspectImage(out, {}, (x) => (text += x));
    for (const f of ['TeLLMe model image, version 2', `kv260 (sha256 ${loadHwConfig('kv260').hash})`, 'checksums       verified', 'weights.L0.* (', 'lm_head.scale', 'host.tokenizer.json']) expect(text).toContain(f);
    let all = '';
    inspectImage(out, { sections: true }, (x) => (all += x));
    expect(all).toContain('weights.L2.down_proj.t0.p3');
    const j = JSON.parse(await capture(() => program().parseAsync(['node', 'tellme', 'inspect', out, '--json', '--board', 'kv260']))) as Record<string, any>;
    expect(j['checksums_verified']).toBe(true);
    expect(j['hardware'].name).toBe('kv260');
    expect(j['sections'].length).toBeGreaterThan(80);
    expect(j['sections'][0]).toEqual(expect.objectContaining({ name: 'weights.L0.q_proj.t0.p0', offset: 4096 }));
    await expectTellme(() => program().parseAsync(['node', 'tellme', 'inspect', out, '--board', 'kv260-paper']), 'E_IMAGE', 'image built for kv260');
    const notImage = path.join(tmpDir('cli'), 'x.bin');
    fs.writeFileSync(notImage, 'hello');
    await expectTellme(() => program().parseAsync(['node', 'tellme', 'inspect', notImage]), 'E_USAGE', 'not a model image');
  });
});
