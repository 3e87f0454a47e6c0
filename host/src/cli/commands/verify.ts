/**
 * `tellme verify --target <name> --model <dir | image>`: run an implementation of the accelerator
 * against the golden model and print {target, cases, mismatches, pass, cycles}; exit 1 on any
 * difference. The targets are listed in verify/targets.ts.
 */
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { BOARD_VERIFY_TARGETS } from '../../device/verify-targets.js';
import { VERIFY_TARGETS, type VerifyResult, type VerifyTarget } from '../../verify/targets.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { parseFloatOption, parseIntOption } from '../options.js';

export interface VerifyCommandOptions {
  target: string;
  model?: string;
  board?: string;
  seeds?: number;
  prefillTokens?: number;
  stall?: number;
  json?: boolean;
  device?: string;
  tcp?: string;
  pcie?: string;
}

/** The accelerator targets (verify/targets.ts) and the board targets (device/verify-targets.ts). */
const TARGETS: Record<string, VerifyTarget> = { ...VERIFY_TARGETS, ...BOARD_VERIFY_TARGETS };

export async function runVerify(opts: VerifyCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<VerifyResult> {
  const target = TARGETS[opts.target];
  if (!target) {
    throw new TellmeError('E_USAGE', `unknown verify target "${opts.target}"`, `Use one of: ${Object.keys(TARGETS).join(', ')}.`);
  }
  if (!opts.model) throw new TellmeError('E_USAGE', 'nothing to verify: --model is missing', 'Pass --model <checkpoint directory | model image>.');
  const result = await target.run({
    model: opts.model,
    ...(opts.board !== undefined ? { board: opts.board } : {}),
    ...(opts.seeds !== undefined ? { seeds: opts.seeds } : {}),
    ...(opts.prefillTokens !== undefined ? { prefillTokens: opts.prefillTokens } : {}),
    ...(opts.stall !== undefined ? { stall: opts.stall } : {}),
    ...(opts.device !== undefined ? { device: opts.device } : {}),
    ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
    ...(opts.pcie !== undefined ? { pcie: opts.pcie } : {}),
    progress: opts.json ? undefined : (m) => process.stderr.write(`${m}\n`),
  });
  if (opts.json) {
    write(`${JSON.stringify(result)}\n`);
  } else {
    write(`${result.target}: ${result.cases} cases, ${result.mismatches} mismatches, ${result.cycles} cycles: ${result.pass ? 'PASS' : 'FAIL'}\n`);
  }
  if (!result.pass) {
    throw new TellmeError('E_MISMATCH', `${result.target} differs from the golden model: ${result.mismatches} mismatching values${typeof result['report'] === 'string' && result['report'] ? ` (${result['report']})` : ''}`, result.target === 'csim' || result.target === 'csim-rtl'
        ? 'The report names the first tensor (in datapath order) that differs: inspect that unit of hls/src; `tellme trace` and `tellme trace-compare` (docs/trace.md) reproduce it.'
        : 'Rerun the failing calls with a waveform (sim/README.md) and compare with the golden TLMM.');
  }
  return result;
}

export function register(program: Command): void {
  const cmd = program.command('verify').description('check an implementation of the accelerator against the golden model, bit for bit');
  addModelInput(cmd, 'checkpoint directory or model image')
    .requiredOption('--target <name>', `what to verify: ${Object.entries(TARGETS).map(([k, v]) => `${k} (${v.summary})`).join('; ')}`)
    .option(SHARED_OPTIONS.board, 'hardware build for a checkpoint (default kv260; an image brings its own)')
    .option('--seeds <n>', 'rtl: activation seeds per weight tile and pass; csim, csim-rtl: prompts, each a prefill and 16 greedy decode steps', parseIntOption('--seeds', 1, 1000))
    .option('--prefill-tokens <n>', 'tokens of the prefill block', parseIntOption('--prefill-tokens', 1, 4096))
    .option('--stall <p>', 'probability of an idle / refused cycle on every stream (0 = full rate)', parseFloatOption('--stall', 0, 0.95))
    .option('--device <tty>', 'with --target device: the board\'s serial port')
    .option('--tcp <host:port>', 'with --target device: the board on the network')
    .option('--pcie <dev>', 'with --target device: the PCIe card (/dev/xdma0)')
    .option(SHARED_OPTIONS.json, 'print one JSON object: {"target", "cases", "mismatches", "pass", "cycles", ...}')
    .addHelpText(
      'after',
      '\nExamples:\n  tellme verify models/tellme-shakespeare-6l --target rtl --json\n  tellme verify --target rtl --model model.tlm --seeds 3\n  tellme verify model.tlm --target csim --seeds 2 --json\n  tellme verify model.tlm --target csim-rtl --stall 0 --json\n  tellme verify models/tellme-shakespeare-6l --target sim-csim --json\n  tellme verify model.tlm --target device --device /dev/ttyUSB1\n\nExit status: 0 when everything matched, 1 on any difference or a usage error.',
    )
    .action(async (model: string | undefined, opts: VerifyCommandOptions) => {
      await runVerify({ ...opts, model: modelPath(model, opts, 'verify')! });
    });
}
