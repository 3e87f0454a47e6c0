/**
 * `tellme hwgen`: write the generated hardware parameter files of one build (or all bundled
 * boards): the SystemVerilog package for the RTL and the C++ headers for HLS; with --all also the
 * protocol bindings (hw/spec/protocol.json) and the register map bindings (hw/spec/registers.json:
 * C, TypeScript, SystemVerilog). `--check` writes nothing and fails when a committed file differs
 * from what would be generated.
 */
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { listBoards } from '../../hwconfig/load.js';
import { firmwareBoardFiles, generateForBoard, registerMapFiles, staleFiles, writeGenerated, type GeneratedFile } from '../../hwgen/generate.js';
import { protocolOutputs } from '../../hwgen/protocol.js';
import { projectRoot } from '../../paths.js';
import { SHARED_OPTIONS } from '../conventions.js';

export interface HwgenOptions {
  board?: string;
  all?: boolean;
  check?: boolean;
  output?: string;
}

export function runHwgen(opts: HwgenOptions, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  if (!!opts.board === !!opts.all) {
    throw new TellmeError('E_USAGE', opts.all ? 'give either --board or --all, not both' : 'no build named', `Pass --board <name|file> or --all (bundled boards: ${listBoards().join(', ')}).`);
  }
  const files: GeneratedFile[] = (opts.all ? listBoards() : [opts.board!]).flatMap((b) => generateForBoard(b));
  if (opts.all) files.push(...protocolOutputs(), ...registerMapFiles(), ...firmwareBoardFiles());
  const root = opts.output ?? projectRoot();
  if (opts.check) {
    const stale = staleFiles(files, root);
    if (stale.length > 0) {
      throw new TellmeError('E_USAGE', `generated files are stale or missing under ${root}: ${stale.join(', ')}`, 'Run `make hwgen` (tellme hwgen --all) and commit the result.');
    }
    write(`${files.length} generated files up to date\n`);
    return;
  }
  for (const p of writeGenerated(files, root)) write(`wrote ${p}\n`);
}

export function register(program: Command): void {
  program
    .command('hwgen')
    .description('generate the RTL package (hw/gen/<board>/tellme_hw_pkg.sv) and the HLS headers (hls/gen/<board>/config.hpp, tl_registers.hpp) from a hardware build; with --all also the protocol and register map bindings')
    .option(SHARED_OPTIONS.board, 'board profile name (hw/boards/*.json) or hardware description file')
    .option('--all', 'every bundled board profile, and the protocol and register map bindings from hw/spec')
    .option('--check', 'write nothing; exit 1 when a generated file is stale or missing')
    .option(SHARED_OPTIONS.output, 'output root instead of the project root (the files go under hw/gen and hls/gen there)')
    .addHelpText('after', '\nExamples:\n  tellme hwgen --all\n  tellme hwgen --board kv260 --check\n')
    .action((opts: HwgenOptions) => {
      runHwgen(opts);
    });
}
