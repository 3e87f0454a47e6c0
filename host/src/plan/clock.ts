/**
 * The clock a build can be expected to reach, and the weight bandwidth at that clock
 * (docs/performance-model.md §1.4).
 *
 * Rule: up to timing.closure_lut_fraction of the device's LUTs the build closes at clock_mhz;
 * above it the achievable clock falls linearly, by clock_loss_per_lut_fraction of clock_mhz per
 * unit of LUT utilisation. The memory-side ports keep their own clock (the PS crosses every PL-PS
 * AXI interface asynchronously, UG1085), so a derated kernel clock lowers only the kernel-side
 * width term of the weight bandwidth.
 */
import { memoryBandwidth } from '../hwconfig/derive.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { estimateResources } from './resources.js';

/** What the planner runs a build at. */
export interface Achieved {
  /** LUT estimate / available LUTs. */
  lutUtilisation: number;
  clockMhz: number;
  clockHz: number;
  /** Weight-stream bandwidth at that clock, bytes/s. */
  bandwidthBps: number;
  /** bandwidthBps per kernel clock cycle. */
  bytesPerCycle: number;
}

/** The achievable kernel clock at a LUT utilisation (a fraction of the available LUTs). */
export function achievableClockMhz(hw: LoadedHwConfig, lutUtilisation: number): number {
  const t = hw.config.timing;
  const over = Math.max(0, lutUtilisation - t.closure_lut_fraction);
  // Floored at half the target so that builds that do not fit (their report says so) still get
  // finite figures.
  return hw.config.clock_mhz * Math.max(0.5, 1 - t.clock_loss_per_lut_fraction * over);
}

/** Clock and bandwidth of a build, from its LUT estimate (or a given utilisation). */
export function achievedFor(hw: LoadedHwConfig, lutUtilisation = estimateResources(hw).utilisation.lut): Achieved {
  const clockMhz = achievableClockMhz(hw, lutUtilisation);
  const bandwidthBps = memoryBandwidth(hw.config, clockMhz).effectiveBandwidthBps;
  return { lutUtilisation, clockMhz, clockHz: clockMhz * 1e6, bandwidthBps, bytesPerCycle: bandwidthBps / (clockMhz * 1e6) };
}
