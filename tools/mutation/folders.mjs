// Which tests each mutated folder is scored against (npm run mutation -- <folder>).
//
// Per folder, the tests written for it. Left out on purpose, to keep a run within an hour or so
// on two shared cores: the known answers (test/kat; they run whole models and overlap the targeted
// vectors), tests that pass or fail only through tolerances (the float reference, the transformers
// oracle, the demo model), whole-model runs, tests that run the built CLI in child processes
// (dist/ is not mutated) and the full-size benchmarks. Per-test coverage then runs each mutant
// against only the tests that reach it. The scores are lower bounds.
export const FOLDERS = {
  numerics: ['test/numerics/**/*.test.ts'],
  tlmm: ['test/tlmm/**/*.test.ts'],
  quant: ['test/quant/**/*.test.ts'],
  // golden: the targeted vectors, the head tests, the tiny whole passes and the loaders. Not
  // golden.test.ts (the whole-model transcription: 40 s a run, which every covered mutant would
  // repeat), test/image/golden-equality (both of its sides run the same golden code, so a mutant
  // changes both alike), hf-oracle (tolerances).
  golden: [
    'test/golden/attention.test.ts',
    'test/golden/attention-int8.test.ts',
    'test/golden/attention-int8-vectors.test.ts',
    'test/golden/attention-slots.test.ts',
    'test/golden/head-paths.test.ts',
    'test/golden/lm-head.test.ts',
    'test/golden/shortlist.test.ts',
    'test/golden/numerics-choice.test.ts',
    // The pass and the loaders: tiny whole passes against their known answers, tensor by tensor
    // (about a second a case), the model's refusals, the weights from a checkpoint and an image.
    'test/golden/forward.test.ts',
    'test/golden/model-api.test.ts',
    'test/golden/weights.test.ts',
    'test/golden/weights-image.test.ts',
    // Fifth session: quantizeHead's known answers, close() stopping the workers, paper beats over
    // two row tiles (carried norms, the ternary head's slots), the loader's own verification pass.
    'test/golden/quantize-head.test.ts',
    'test/golden/model-close.test.ts',
    'test/golden/weights-image-tiles.test.ts',
    'test/golden/weights-image-verify.test.ts',
  ],
  runtime: ['test/runtime/**/*.test.ts'],
  // protocol (frames, codec, CRC, the client): its own tests and the host client against the
  // virtual board's firmware over the PCIe transport (pcie). Not the tests that open a serial port
  // (transport, board): Stryker's vitest runner runs tests in worker threads, where serialport's
  // native binding aborts the process (V8 "HandleScope … without proper locking"). Not
  // conformance and families (whole models on the board: minutes a run).
  // Not generated.test (it checks hwgen's output files byte for byte; Stryker's sandbox copies of
  // them do not match).
  protocol: ['test/protocol/framing.test.ts', 'test/protocol/c-binding.test.ts', 'test/protocol/codec.test.ts', 'test/protocol/deframer-edges.test.ts', 'test/protocol/client.test.ts', 'test/device/pcie.test.ts'],
  // image: the header and the reader's checks (header, verify, boundaries, corrupt), the overflow
  // bounds. Not roundtrip and cli (conversions of whole models, 25 s and more a run; under load
  // their chat-template rendering passes its 10 s limit) nor golden-equality (slow; both sides the
  // same golden code).
  // One test file a line (the reader's and the writer's tests are added by different branches).
  // Writer side: with conversions inside the test bodies, run with --ignoreStatic (static.mjs). Not
  // writer-tokenizer (its chat-template renders have a 10 s limit that a mutation run's load passes).
  image: [
    ...['boundaries', 'bounds', 'corrupt', 'header', 'verify', 'worst'].map((t) => `test/image/${t}.test.ts`),
    'test/robust/manifest-checks.test.ts',
    'test/image/reader-checks.test.ts',
    'test/image/records.test.ts',
    'test/image/describe.test.ts',
    'test/image/section-values.test.ts',
    'test/image/section-table.test.ts',
    'test/image/pack.test.ts',
    'test/image/writer-kat.test.ts',
    'test/image/pack-boundaries.test.ts',
    'test/image/writer-refusals.test.ts',
    'test/image/writer-parts.test.ts',
    'test/image/image-tokenizer.test.ts',
    'test/image/convert-inputs.test.ts',
    'test/image/writer-missing-tensors.test.ts',
    'test/image/writer-yields.test.ts',
    'test/image/writer-weight-refusals.test.ts',
    'test/image/pack-refusal-scope.test.ts',
    'test/image/numerics-record.test.ts',
    'test/image/reader-file.test.ts',
    'test/image/board-difference.test.ts',
    'test/image/pack-code-tables.test.ts',
    // Sixth session: numerics.worst at exact ties, through a conversion and back through openImage.
    'test/image/worst-ties.test.ts',
    // Seventh session: the converter and the loader agree on code 3 in the slots past the last row.
    'test/image/pack-unused-slots.test.ts',
  ],
};
