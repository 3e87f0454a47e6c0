/**
 * A conversion gives the event loop a turn after each matrix it writes (write-weights.ts), so that
 * the CLI's progress line is drawn and Ctrl-C is handled during a long conversion: a
 * setImmediate loop started before the conversion must run between any two matrices' progress
 * reports.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint } from '../../host/src/image/index.js';
import { testModel, tmpDir } from './helpers.js';

describe('a conversion yields to the event loop', () => {
  it('between every two matrices', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed', tokenizer: false });
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const atMatrix: number[] = [];
    try {
      await convertCheckpoint(ckpt, path.join(tmpDir('out'), 'm.tlm'), {
        hw: loadHwConfig('kv260'),
        progress: (_done, _total, what) => {
          if (/^layer \d+ /.test(what)) atMatrix.push(turns);
        },
      });
    } finally {
      running = false;
    }
    expect(atMatrix.length).toBe(7 * ckpt.spec.numLayers);
    for (let i = 1; i < atMatrix.length; i++) expect(atMatrix[i]!, `matrix ${i}`).toBeGreaterThan(atMatrix[i - 1]!);
  });
});
