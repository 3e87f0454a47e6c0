/**
 * The safetensors header is read as strictly as the format writes it (issue 11): no byte-order
 * mark, and shapes and offsets as plain unsigned integers (`96.0`, `9.6e1`, `-0` are refused,
 * although JSON.parse reads them as the same numbers); numbers inside strings are not numbers.
 */
import { describe, expect, it } from 'vitest';
import { parseSafetensorsHeader } from '../../host/src/checkpoint/safetensors.js';
import { expectTellme } from './helpers.js';

const GOOD = '{"__metadata__":{"note":"-0 96.0 \\" 1e3"},"w":{"dtype":"BF16","shape":[96,2],"data_offsets":[0,384]}}';

function parse(text: string) {
  const bytes = new TextEncoder().encode(text);
  return parseSafetensorsHeader(bytes, 'm.safetensors', 8 + bytes.length + 384);
}

describe('safetensors header strictness', () => {
  it('accepts the plain form, numbers inside metadata strings included', () => {
    expect(parse(GOOD).tensors[0]!.shape).toEqual([96, 2]);
  });

  it('refuses a UTF-8 byte-order mark before the header', () => {
    expectTellme(() => parse('\uFEFF' + GOOD), 'E_SAFETENSORS', 'm.safetensors', 'byte-order mark');
  });

  it.each(['96.0', '9.6e1', '96e0', '96.00'])('refuses the shape literal %s, which JSON.parse reads as 96', (lit) => {
    expectTellme(() => parse(GOOD.replace('[96,2]', `[${lit},2]`)), 'E_SAFETENSORS', 'm.safetensors', `the number ${lit};`);
  });

  it.each(['-96', '096', '-0'])('refuses the shape literal %s', (lit) => {
    expectTellme(() => parse(GOOD.replace('[96,2]', `[${lit},2]`)), 'E_SAFETENSORS', 'm.safetensors');
  });

  it.each(['0.0', '-0', '0e0'])('refuses the offset literal %s', (lit) => {
    expectTellme(() => parse(GOOD.replace('[0,384]', `[${lit},384]`)), 'E_SAFETENSORS', `the number ${lit};`);
  });
});
