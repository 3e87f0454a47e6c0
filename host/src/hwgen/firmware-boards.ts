/**
 * The firmware's table of hardware builds (firmware/gen/tl_boards.h): every bundled board's
 * parameters (the one list of params.ts, as the RTL package and the HLS header carry them) plus
 * what only the firmware needs (where the LM head runs, the contract choices, DDR size, whether
 * the register-driven accelerator implements the build). The firmware and the virtual board pick
 * their build from it by name (`--board`) or by the bitstream's build_hash register.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { banner } from './emit.js';
import { hwParams, type HwParam } from './params.js';

interface CField {
  name: string;
  doc: string;
  /** C declaration of the field and its initializer for one build. */
  decl: string;
  init: (hw: LoadedHwConfig) => string;
}

function paramField(p: HwParam, index: (hw: LoadedHwConfig) => HwParam): CField {
  const name = p.name;
  switch (p.v.kind) {
    case 'uint':
      return { name, doc: p.doc, decl: `uint32_t ${name};`, init: (hw) => `${(index(hw).v as { value: number }).value}u` };
    case 'bool':
      return { name, doc: p.doc, decl: `uint8_t ${name};`, init: (hw) => ((index(hw).v as { value: boolean }).value ? '1' : '0') };
    case 'string':
      return { name, doc: p.doc, decl: `const char *${name};`, init: (hw) => JSON.stringify((index(hw).v as { value: string }).value) };
    case 'hex256':
      return {
        name,
        doc: p.doc,
        decl: `uint8_t ${name}[32];`,
        init: (hw) => `{${((index(hw).v as { value: string }).value.match(/../g) ?? []).map((b) => `0x${b}`).join(', ')}}`,
      };
  }
}

/**
 * Fields the firmware needs beyond the hardware parameters (kv_int8, lm_head_shortlist and
 * shortlist_k are hardware parameters: hwgen/params.ts, "Attention and LM head").
 */
const FIRMWARE_FIELDS: CField[] = [
  { name: 'lm_head_on_arm', doc: 'lm_head.placement is arm: the firmware computes the int8 LM head (numerics §9)', decl: 'uint8_t lm_head_on_arm;', init: (hw) => (hw.config.lm_head.placement === 'arm' ? '1' : '0') },
  { name: 'ddr_usable_mib', doc: 'memory.ddr_usable_mib: DDR the accelerator and the model may use', decl: 'uint32_t ddr_usable_mib;', init: (hw) => `${hw.config.memory.ddr_usable_mib}u` },
  {
    name: 'register_driven',
    doc: 'the register-driven accelerator (docs/registers.md) implements this build: tiled weights, dense beats, binary32 activations',
    decl: 'uint8_t register_driven;',
    init: (hw) => {
      const a = hw.config.architecture;
      return a.weight_layout === 'tiled' && a.beat_packing === 'dense' && a.activation_format === 'fp32' ? '1' : '0';
    },
  },
];

/** firmware/gen/tl_boards.h for the given builds (in the order given). */
export function emitFirmwareBoards(builds: LoadedHwConfig[]): string {
  const first = builds[0]!;
  const params = hwParams(first).flatMap((g) => g.params);
  for (const hw of builds) {
    const names = hwParams(hw).flatMap((g) => g.params.map((p) => p.name));
    if (names.join(',') !== params.map((p) => p.name).join(',')) throw new Error(`hwgen: ${hw.config.name} has another parameter list than ${first.config.name}`);
  }
  const byName = (name: string) => (hw: LoadedHwConfig) => hwParams(hw).flatMap((g) => g.params).find((p) => p.name === name)!;
  const fields = [...params.map((p) => paramField(p, byName(p.name))), ...FIRMWARE_FIELDS];
  const lines = [
    banner('//', 'hw/boards/*.json'),
    '',
    '/* The hardware builds the firmware knows (docs/layout.md §1, hw/boards/<name>.json). */',
    '#ifndef TL_BOARDS_H',
    '#define TL_BOARDS_H',
    '',
    '#include <stddef.h>',
    '#include <stdint.h>',
    '',
    'typedef struct {',
    ...fields.map((f) => `  ${f.decl} /* ${f.doc} */`),
    '} tl_board_desc;',
    '',
    `#define TL_BOARD_COUNT ${builds.length}u`,
    '',
    'static const tl_board_desc tl_boards[TL_BOARD_COUNT] = {',
    ...builds.flatMap((hw) => ['  {', ...fields.map((f) => `    ${f.init(hw)}, /* ${f.name} */`), '  },']),
    '};',
    '',
    '#endif /* TL_BOARDS_H */',
    '',
  ];
  return lines.join('\n');
}
