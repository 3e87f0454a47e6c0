/**
 * `tellme hwgen`: the generated parameter files of a hardware build, written into (or checked
 * against) the project tree:
 *   hw/gen/<board>/tellme_hw_pkg.sv   SystemVerilog package for the RTL
 *   hls/gen/<board>/config.hpp        C++ constants for the HLS kernels and their C simulation
 *   hls/gen/<board>/tl_registers.hpp  the register map for HLS (registers-emit.ts)
 *   hw/gen/<board>/tlmm_engine_hls.json  the Vitis HLS RTL-blackbox description of the TLMM engine
 *                                        (boards whose engine hw/rtl builds)
 * The first two come from the one parameter list of params.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBoards, loadHwConfig } from '../hwconfig/load.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { projectRoot } from '../paths.js';
import { emitBlackboxJson, rtlEngineBuilds } from './blackbox.js';
import { emitFirmwareBoards } from './firmware-boards.js';
import { emitHlsConfig, emitSvPackage } from './emit.js';
import { hwParams } from './params.js';
import { emitRegistersC, emitRegistersHls, emitRegistersSv, emitRegistersTs } from './registers-emit.js';
import { loadRegisterMap, type RegisterMap } from './registers.js';

export interface GeneratedFile {
  /** Path relative to the output root (the project root by default). */
  path: string;
  content: string;
}

/** The board file as the banner names it: relative to the project root when inside it. */
function sourceName(hw: LoadedHwConfig, root: string): string {
  const rel = path.relative(root, hw.file);
  return (rel.startsWith('..') || path.isAbsolute(rel) ? hw.file : rel).split(path.sep).join('/');
}

export function generatedFiles(hw: LoadedHwConfig, root = projectRoot(), regs: RegisterMap = loadRegisterMap()): GeneratedFile[] {
  const groups = hwParams(hw);
  const source = sourceName(hw, root);
  const board = hw.config.name;
  const files = [
    { path: `hw/gen/${board}/tellme_hw_pkg.sv`, content: emitSvPackage(groups, source) },
    { path: `hls/gen/${board}/config.hpp`, content: emitHlsConfig(groups, source) },
    { path: `hls/gen/${board}/tl_registers.hpp`, content: emitRegistersHls(regs, hw) },
  ];
  if (rtlEngineBuilds(hw)) files.push({ path: `hw/gen/${board}/tlmm_engine_hls.json`, content: emitBlackboxJson(hw, source, root) });
  return files;
}

/** The register map's bindings that do not depend on the build. */
export function registerMapFiles(regs: RegisterMap = loadRegisterMap()): GeneratedFile[] {
  return [
    { path: 'firmware/gen/tl_registers.h', content: emitRegistersC(regs) },
    { path: 'host/src/regmap/registers.ts', content: emitRegistersTs(regs) },
    { path: 'hw/gen/tellme_regs_pkg.sv', content: emitRegistersSv(regs) },
  ];
}

/** The firmware's table of every bundled build (firmware/gen/tl_boards.h). */
export function firmwareBoardFiles(): GeneratedFile[] {
  return [{ path: 'firmware/gen/tl_boards.h', content: emitFirmwareBoards(listBoards().map((b) => loadHwConfig(b))) }];
}

export function generateForBoard(board: string): GeneratedFile[] {
  return generatedFiles(loadHwConfig(board));
}

/** Write the files under outRoot; returns the paths written. */
export function writeGenerated(files: GeneratedFile[], outRoot: string): string[] {
  return files.map((f) => {
    const p = path.join(outRoot, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content);
    return p;
  });
}

/** Files under root whose content differs from what the generator writes (missing counts). */
export function staleFiles(files: GeneratedFile[], root: string): string[] {
  return files
    .filter((f) => {
      const p = path.join(root, f.path);
      return !fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== f.content;
    })
    .map((f) => f.path);
}
