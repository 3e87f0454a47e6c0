/**
 * Progress bars for long work, on stderr and only when stderr is a terminal (so JSON on stdout
 * and logs in CI stay clean).
 */

import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number, what: string): void;
  stop(): void;
}

export function progressBar(label: string, enabled = process.stderr.isTTY === true): ProgressReporter {
  if (!enabled) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {what}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, what) {
      if (!started) {
        bar.start(total, 0, { what });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { what });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
