/**
 * The ternary LM head of ternary-shortlist builds (docs/numerics.md §9.2, docs/image-format.md §2):
 * `weights.head.t{t}.p{p}` — the head rows absmean-ternarised one by one (quant/head.ts
 * ternarizeHeadRow, the function the golden model uses), encoded into TLMM indices and packed tile
 * by tile and lane by lane like any linear — and `lm_head.ternary_scale`, w_r per row (binary32).
 * Rows arrive in order, in chunks of the binary32 source values (the embedding's float values for
 * a tied head, not its bf16 rounding); a tile is packed and written as soon as its last row is in,
 * so memory stays one tile's indices.
 */

import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { packLayout } from '../layout/beats.js';
import { HEAD_TERNARY_SCALE_REGION, headWeightsRegion } from '../layout/ddr.js';
import type { LinearPlacement, UramTile } from '../layout/uram.js';
import { ternarizeHeadRow } from '../quant/head.js';
import { asBytes, type ImageFile, type SectionSink } from './image-file.js';
import { encodeTernaryRows, laneOf, packStream } from './pack.js';

const SAME_ROW = Int32Array.of(0);

export class TernaryHeadWriter {
  private readonly groups: number;
  private readonly indices: Uint8Array;
  private readonly row: Int8Array;
  private readonly scaleSink: SectionSink;
  private tile = 0;
  /** Rows of the current tile already encoded. */
  private filled = 0;

  constructor(
    private readonly head: LinearPlacement<'head'>,
    private readonly hw: LoadedHwConfig,
    private readonly file: ImageFile,
  ) {
    this.groups = head.chunks * hw.derived.tables;
    this.indices = new Uint8Array(Math.max(...head.tiles.map((t) => t.rows)) * this.groups);
    this.row = new Int8Array(head.cols);
    this.scaleSink = file.section(HEAD_TERNARY_SCALE_REGION);
  }

  /** The next rows of the head, [n][cols] binary32 (finite: the int8 head's checks ran on them). */
  rows(chunk: Float32Array): void {
    const cols = this.head.cols;
    const n = chunk.length / cols;
    const scales = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const tile = this.head.tiles[this.tile];
      if (!tile) throw new TellmeError('E_INTERNAL', `ternary head: more than ${this.head.rows} rows`);
      scales[r] = ternarizeHeadRow(chunk, r * cols, cols, this.row, 0);
      const at = this.filled * this.groups;
      encodeTernaryRows(this.row, 1, cols, this.groups, SAME_ROW, this.indices.subarray(at, at + this.groups));
      if (++this.filled === tile.rows) this.writeTile(tile);
    }
    this.scaleSink.write(asBytes(scales));
  }

  finish(): void {
    if (this.tile !== this.head.tiles.length) throw new TellmeError('E_INTERNAL', `ternary head: ${this.tile} of ${this.head.tiles.length} tiles written`);
    this.scaleSink.finish();
  }

  /** Pack the tile's rows (indices relative to the tile's first row) and write its lanes. */
  private writeTile(tile: UramTile<'head'>): void {
    const layout = packLayout(
      this.hw,
      tile.blocks.map((b) => ({ rowStart: b.rowStart - tile.rowStart, rows: b.rows, chunkStart: b.chunkStart, chunks: b.chunks })),
    );
    const stream = packStream(this.indices.subarray(0, tile.rows * this.groups), tile.rows, this.groups, layout);
    const lanes = this.hw.config.memory.weight_ports;
    for (let p = 0; p < lanes; p++) this.file.writeSection(headWeightsRegion(tile.tile, p), laneOf(stream, this.hw.derived.beatBytes, lanes, p));
    this.tile++;
    this.filled = 0;
  }
}
