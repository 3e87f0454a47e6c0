/** What every `tellme verify` target reports (verify/targets.ts). */
export interface VerifyResult {
  target: string;
  /** Calls (or vectors) compared. */
  cases: number;
  /** Values that differ from the golden model. */
  mismatches: number;
  pass: boolean;
  /** Cycles the implementation reported (0 when it has no clock). */
  cycles: number;
  [extra: string]: unknown;
}
