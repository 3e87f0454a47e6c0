// Which tests each mutated folder is scored against (npm run mutation -- <folder>).
//
// Per folder, the tests written for it (and for golden/, the model-level tests). Left out on
// purpose, to keep a run within hours on two shared cores: the known answers (test/kat; they
// run whole models and overlap the targeted vectors), tests that pass or fail only through
// tolerances (the float reference, the transformers oracle, the demo model), tests that run the
// built CLI in child processes (dist/ is not mutated) and the full-size benchmarks. Per-test
// coverage then runs each mutant against only the tests that reach it.
export const FOLDERS = {
  numerics: ['test/numerics/**/*.test.ts'],
  tlmm: ['test/tlmm/**/*.test.ts'],
  quant: ['test/quant/**/*.test.ts'],
  // golden: the targeted vectors, the head and shortlist tests and the whole-model transcription
  // (golden.test.ts). Not test/image/golden-equality: both of its sides run the same golden code,
  // so a mutant changes both alike; not hf-oracle (tolerances).
  golden: [
    'test/golden/attention.test.ts',
    'test/golden/attention-int8.test.ts',
    'test/golden/attention-int8-vectors.test.ts',
    'test/golden/lm-head.test.ts',
    'test/golden/shortlist.test.ts',
    'test/golden/numerics-choice.test.ts',
    'test/golden/golden.test.ts',
  ],
  runtime: ['test/runtime/**/*.test.ts'],
  // image: not golden-equality (the golden model from an image and from the checkpoint: slow, and a
  // reader change it could see already fails the checksums and the value checks of roundtrip).
  image: ['boundaries', 'bounds', 'cli', 'corrupt', 'pack', 'roundtrip'].map((t) => `test/image/${t}.test.ts`),
};
