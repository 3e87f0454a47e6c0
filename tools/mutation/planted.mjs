// The planted bugs of issue 12 ("Survivors": each kept the whole suite green then), applied one
// at a time to the source, each followed by the tests that now name it; every one must fail.
//   npm run mutation:planted [-- NAME-SUBSTRING]
// The source file is restored from memory after each run (also on Ctrl-C), so uncommitted edits
// survive. Prints one line per bug and exits non-zero if a planted bug passes its tests.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const PLANTED = [
  // numerics
  ['exp: coefficient 1/720 one ulp up', 'host/src/numerics/functions.ts', '1 / 720,', '1 / 720 + 2 ** -33,', ['test/numerics/vectors.test.ts']],
  ['dequantisation factor reassociated as amax·(w_s/127)', 'host/src/numerics/quant.ts', 'return f32(f32(clampAbsmax(amax) * weightScale) / INT8_MAX);', 'return f32(clampAbsmax(amax) * f32(weightScale / INT8_MAX));', ['test/numerics/vectors.test.ts']],
  ['16-lane tree adds strided pairs L_i + L_{i+8}', 'host/src/numerics/reduce.ts', 'l[i] = f32(l[2 * i]! + l[2 * i + 1]!)', 'l[i] = f32(l[i]! + l[i + half]!)', ['test/numerics/vectors.test.ts']],
  ['dot product fused (product not rounded)', 'host/src/numerics/reduce.ts', 'lanes[l] = f32(lanes[l]! + f32(a[offA + i]! * b[offB + i]!));', 'lanes[l] = f32(lanes[l]! + a[offA + i]! * b[offB + i]!);', ['test/numerics/vectors.test.ts']],
  // golden and sampling
  ['prefill online softmax visits keys upward', 'host/src/golden/attention.ts', 'for (let j = pos; j >= 0; j--) {', 'for (let j = 0; j <= pos; j++) {', ['test/golden/attention.test.ts']],
  ['attention output divided by l instead of times f32(1/l)', 'host/src/golden/attention.ts', 'out[off + t] = f32(o[t]! * rl);', 'out[off + t] = f32(o[t]! / l);', ['test/golden/attention.test.ts']],
  ['argmax ties go to the highest index', 'host/src/runtime/sampling.ts', '    if (v > bv) {', '    if (v >= bv) {', ['test/runtime/sampling.test.ts']],
  ['top-k/top-p candidate ties ordered by higher id', 'host/src/runtime/sampling.ts', 'logits[b]! - logits[a]! || a - b', 'logits[b]! - logits[a]! || b - a', ['test/runtime/sampling.test.ts']],
  ['PRNG seeding offset i·φ instead of (i+1)·φ', 'host/src/runtime/sampling.ts', 'Math.imul(i + 1, 0x9e3779b9)', 'Math.imul(i, 0x9e3779b9)', ['test/runtime/sampling.test.ts']],
  ['top-p stops at c > threshold instead of >=', 'host/src/runtime/sampling.ts', 'if (c >= threshold) {', 'if (c > threshold) {', ['test/runtime/sampling.test.ts']],
  ["LM head's int32 -> binary32 rounding dropped", 'host/src/golden/model.ts', 'logits[r] = f32(f32(acc[r]!) * headDequantFactor', 'logits[r] = f32(acc[r]! * headDequantFactor', ['test/golden/lm-head.test.ts']],
  // image and layout
  ["reader does not bound a section's end by the manifest offset", 'host/src/image/reader.ts', 's.offset < SECTION_ALIGNMENT || s.offset + s.size > header.manifestOffset', 's.offset < SECTION_ALIGNMENT', ['test/image/boundaries.test.ts']],
  ['padding before the manifest not checked', 'host/src/image/reader.ts', "checkZero(end, this.header.manifestOffset, 'before the manifest');", '', ['test/image/boundaries.test.ts']],
  ["unused-bit check of a packed stream skips its last byte", 'host/src/layout/beats.ts', 'for (let i = 0; i < bytes.length; i++) {\n    if ((bytes[i]! & ~used[i]!)', 'for (let i = 0; i < bytes.length - 1; i++) {\n    if ((bytes[i]! & ~used[i]!)', ['test/layout/beats.test.ts']],
  ['norm weights written without the subnormal flush', 'host/src/image/convert-inputs.ts', 'v[i] = ftz32(v[i]!)', 'v[i] = v[i]!', ['test/image/boundaries.test.ts']],
  ["overflow bound forgets o_proj's output in the residual", 'host/src/image/bounds.ts', 'residual: residualIn + oOut + downOut', 'residual: residualIn + downOut', ['test/image/bounds.test.ts']],
  // checkpoint
  ['safetensors header-length check forgets the 8-byte length field', 'host/src/checkpoint/safetensors.ts', 'if (8 + headerLength > fileSize)', 'if (headerLength > fileSize)', ['test/checkpoint/safetensors-boundaries.test.ts']],
];

const only = process.argv[2];
let restore = null;
process.on('SIGINT', () => {
  restore?.();
  process.exit(130);
});

let survived = 0;
for (const [name, file, from, to, tests] of PLANTED) {
  if (only && !name.includes(only)) continue;
  const original = readFileSync(file, 'utf8');
  const count = original.split(from).length - 1;
  if (count !== 1) {
    console.log(`STALE     ${name}: "${from.split('\n')[0]}" occurs ${count} times in ${file} (update tools/mutation/planted.mjs)`);
    survived++;
    continue;
  }
  restore = () => writeFileSync(file, original);
  try {
    writeFileSync(file, original.replace(from, to));
    const run = spawnSync('npx', ['vitest', 'run', ...tests], { encoding: 'utf8' });
    const failed = (run.stdout + run.stderr).match(/(\d+) failed/);
    if (run.status !== 0 && failed) {
      console.log(`killed    ${name} (${failed[1]} failing in ${tests.join(' ')})`);
    } else {
      survived++;
      console.log(`SURVIVED  ${name} (${tests.join(' ')} exit ${run.status})`);
    }
  } finally {
    restore();
    restore = null;
  }
}
process.exit(survived === 0 ? 0 : 1);
