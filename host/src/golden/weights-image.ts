/**
 * The golden model's weights read from a model image, so that what is verified is exactly what
 * the board gets: TLMM indices decoded from the packed DDR beat streams by the reference decoder
 * (layout/beats.ts unpackWeights over the joined lanes, tile by tile), the weight scales from the
 * manifest's binary32 bits, norm weights, the RoPE table, the bf16 embedding and the int8 LM head
 * with its per-row absmax from their sections. Must give the same GoldenWeights, bit for bit, as
 * golden/weights.ts goldenWeightsFromCheckpoint on the source checkpoint
 * (test/image/golden-equality.test.ts).
 *
 * Norms: builds whose activation format is binary32 (ours) read the DDR norm regions. The paper
 * build (activation_format fp16) stores binary16 norms for its fp16 datapath, which the golden
 * model does not implement; its image also carries the binary32 norms (host.norms.* sections),
 * the golden model reads those, and the binary16 copies (DDR regions and the norm slots of the
 * paper beats) are checked to be their binary16 rounding.
 */

import type { TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { imageTokenizer } from '../image/tokenizer.js';
import { verifyImage } from '../image/manifest-checks.js';
import { openImage, type ModelImage, type OpenImageOptions } from '../image/reader.js';
import { ddrNormRegion, hostNormSection } from '../image/records.js';
import type { KernelPool } from '../kernels/pool.js';
import { beatCount, joinLanes, unpackWeights } from '../layout/beats.js';
import { HEAD_TERNARY_SCALE_REGION, headWeightsRegion, tilePackLayout, type NormRole } from '../layout/ddr.js';
import type { PlacedLinear, UramTile } from '../layout/uram.js';
import { LAYER_NORM_ROLES, type LayerNormRole, type LinearName } from '../model/spec.js';
import { f32ToF16Sat } from '../numerics/f16.js';
import { paddedGroups, ZERO_INDEX, type TlmmMatrix } from '../tlmm/encoding.js';
import { GoldenModel } from './model.js';
import { headStride, placeLayers, ternaryHeadFromMatrix, ternaryHeadGroups, type GoldenWeights, type Progress } from './weights.js';

function imageError(image: ModelImage, what: string): TellmeError {
  return new TellmeError('E_IMAGE', `${image.path}: ${what}`, 'The image is damaged or was written by a faulty converter; re-run `tellme convert`.');
}

function f32View(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** A norm's binary32 weights as the golden model uses them (see the file comment). */
function readNorm(image: ModelImage, role: NormRole, layer: number): Float32Array {
  const fp16 = image.hw.config.architecture.activation_format === 'fp16';
  if (!fp16) return f32View(image.readSection(ddrNormRegion(role, layer)));
  const v = f32View(image.readSection(hostNormSection(role, layer)));
  const region = ddrNormRegion(role, layer);
  if (image.has(region)) {
    const bits = new Uint16Array(image.readSection(region).buffer);
    for (let i = 0; i < v.length; i++) {
      if (bits[i] !== f32ToF16Sat(v[i]!)) throw imageError(image, `${region}[${i}] is 0x${bits[i]!.toString(16)}, not the binary16 rounding of ${hostNormSection(role, layer)}[${i}] = ${v[i]}`);
    }
  }
  return v;
}

/**
 * Decode the tiles of a placement into m (rows at their absolute positions), reading lane p of
 * tile t from section(t, p). Returns each tile's paper-beat norm slots (null in dense mode).
 */
function decodeTiles(image: ModelImage, tiles: readonly UramTile<PlacedLinear>[], section: (tile: number, lane: number) => string, m: TlmmMatrix): (Uint16Array | null)[] {
  const hw = image.hw;
  const lanes = hw.config.memory.weight_ports;
  return tiles.map((tile) => {
    const parts: Uint8Array[] = [];
    for (let p = 0; p < lanes; p++) parts.push(image.readSection(section(tile.tile, p)));
    return unpackWeights(joinLanes(parts, hw.derived.beatBytes), tilePackLayout(tile, hw), m, m).beatNorms;
  });
}

/**
 * Decode all tiles of one linear of one layer into a TlmmMatrix with ceil(cols/3) groups per row
 * (what the golden model encodes from a checkpoint). Paper beats' norm slots are checked against
 * the norm the layout says they carry (zero when none).
 */
export function decodeImageLinear(image: ModelImage, layer: number, linear: LinearName, norms: (role: NormRole, layer: number) => Float32Array): TlmmMatrix {
  // Always found: image.uram is planUram's plan, re-derived when the image is opened, and it
  // places every linear of COMPUTE_ORDER, which lists every LinearName.
  const lp = image.uram.linears.find((p) => p.linear === linear)!;
  const groups = paddedGroups(lp.cols, 1);
  const m: TlmmMatrix = { rows: lp.rows, cols: lp.cols, groups, indices: new Uint8Array(lp.rows * groups).fill(ZERO_INDEX) };
  const carried = image.manifest.ddr.carried_norms.find((c) => c.layer === layer && c.linear === linear);
  const expectedNorm = carried ? norms(carried.role, carried.norm_layer) : null;
  const slots = decodeTiles(image, lp.tiles, (t, p) => `weights.L${layer}.${linear}.t${t}.p${p}`, m);
  let beat0 = 0;
  lp.tiles.forEach((tile, i) => {
    const beatNorms = slots[i];
    if (beatNorms) {
      for (let b = 0; b < beatNorms.length; b++) {
        const k = beat0 + b;
        const want = expectedNorm && k < expectedNorm.length ? f32ToF16Sat(expectedNorm[k]!) : 0;
        if (beatNorms[b] !== want) {
          throw imageError(image, `weights.L${layer}.${linear} tile ${tile.tile} beat ${b}: norm slot holds 0x${beatNorms[b]!.toString(16)}, expected 0x${want.toString(16)}${carried ? ` (${carried.role} norm of layer ${carried.norm_layer}, weight ${k})` : ' (this stream carries no norm)'}`);
        }
      }
    }
    beat0 += beatCount(tilePackLayout(tile, image.hw));
  });
  return m;
}

/**
 * The ternary head of a shortlist build (docs/numerics.md §9.2) from its tiles and
 * `lm_head.ternary_scale`, or null when the build has none. w_r must be positive and finite.
 */
export function decodeImageTernaryHead(image: ModelImage): { matrix: TlmmMatrix; scale: Float32Array } | null {
  const head = image.uram.head;
  if (!head) return null;
  const groups = ternaryHeadGroups(head.cols);
  const m: TlmmMatrix = { rows: head.rows, cols: head.cols, groups, indices: new Uint8Array(head.rows * groups).fill(ZERO_INDEX) };
  const slots = decodeTiles(image, head.tiles, headWeightsRegion, m);
  if (slots.some((s) => s?.some((v) => v !== 0))) throw imageError(image, 'the ternary head\'s paper-beat norm slots must be zero (it carries no norm)');
  const scale = f32View(image.readSection(HEAD_TERNARY_SCALE_REGION)).slice();
  for (let r = 0; r < scale.length; r++) {
    if (!(scale[r]! > 0 && scale[r]! <= 3.4028234663852886e38)) throw imageError(image, `${HEAD_TERNARY_SCALE_REGION}[${r}] is ${scale[r]}, not a positive finite w_r`);
  }
  return { matrix: m, scale };
}

export interface ImageWeightsOptions {
  /** RoPE / KV positions for the golden model: 1..image context (default: the image's context). */
  contextLength?: number;
  progress?: Progress;
}

/** GoldenWeights from a model image, indices placed in the pool's arena. */
export function goldenWeightsFromImage(image: ModelImage, pool: KernelPool, opts: ImageWeightsOptions = {}): GoldenWeights {
  // Values, not only checksums: the manifest's constants checked against the sections (issue 11).
  if (!image.checksumsVerified) verifyImage(image);
  const spec = image.spec;
  const context = opts.contextLength ?? image.context;
  if (!Number.isInteger(context) || context < 1 || context > image.context) {
    throw new TellmeError('E_USAGE', `context ${context} is outside the image's 1..${image.context} positions`, `Pass a context up to ${image.context}, or re-convert with a larger --context.`);
  }
  const total = spec.numLayers * 7 + 2;
  let done = 0;
  const tick = (what: string) => opts.progress?.(++done, total, what);

  const normCache = new Map<string, Float32Array>();
  const norm = (role: NormRole, layer: number): Float32Array => {
    const key = `${role}@${layer}`;
    let v = normCache.get(key);
    if (!v) {
      v = readNorm(image, role, layer);
      normCache.set(key, v);
    }
    return v;
  };
  const scaleOf = (layer: number, linear: LinearName): number => {
    const rec = image.manifest.matrices.find((x) => x.layer === layer && x.linear === linear);
    if (!rec) throw imageError(image, `no scale for layer ${layer} ${linear}`);
    const bits = Number.parseInt(rec.scale_bits.slice(2), 16);
    const v = new Float32Array(new Uint32Array([bits]).buffer)[0]!;
    if (v !== rec.scale) throw imageError(image, `layer ${layer} ${linear}: scale ${rec.scale} does not match its bits ${rec.scale_bits}`);
    return v;
  };

  const roles = new Set<LayerNormRole>(LAYER_NORM_ROLES.filter((r) => spec.subNorms || (r !== 'attn_sub' && r !== 'ffn_sub')));
  const layers = placeLayers(
    spec,
    pool,
    {
      linear: (l, p) => ({ matrix: decodeImageLinear(image, l, p, norm), scale: scaleOf(l, p) }),
      norm: (l, role) => (roles.has(role) ? norm(role, l) : null),
    },
    tick,
  );
  const finalNorm = norm('final', spec.numLayers - 1);

  const h = spec.hiddenSize;
  const embBytes = image.readSection('embedding');
  const embedding = new Uint16Array(embBytes.buffer, embBytes.byteOffset, embBytes.byteLength / 2);
  tick('embedding');
  const stride = headStride(h);
  const rows = spec.vocabSize;
  const off = pool.arena.alloc(rows * stride, 64);
  const q = pool.arena.u8(off, rows * stride);
  const headBytes = image.readSection('lm_head.weight');
  if (stride === h) q.set(headBytes);
  else for (let r = 0; r < rows; r++) q.set(headBytes.subarray(r * h, (r + 1) * h), r * stride);
  const rowAmax = new Float32Array(image.readSection('lm_head.scale').buffer);
  const ternary = decodeImageTernaryHead(image);
  tick('lm head');
  const rope = f32View(image.readSection('rope')).subarray(0, context * spec.headDim);

  return {
    spec,
    layers,
    finalNorm,
    embedding,
    head: { off, stride, rows, cols: h, rowAmax },
    ternaryHead: ternary ? ternaryHeadFromMatrix(pool, ternary.matrix, ternary.scale) : null,
    rope,
    ropePositions: context,
  };
}

export interface LoadImageOptions extends ImageWeightsOptions, Pick<OpenImageOptions, 'hw' | 'verifyChecksums'> {
  /** Total threads for the kernels (default: all cores). */
  threads?: number;
}

/** GoldenModel.fromImage: open (and validate) an image, and build the golden model from it. */
export async function loadGoldenFromImage(file: string, opts: LoadImageOptions = {}): Promise<GoldenModel> {
  return (await openImageModel(file, opts)).model;
}

export interface ImageModel {
  image: ModelImage;
  model: GoldenModel;
  tokenizer: TokenizerBundle | null;
}

/** GoldenModel.fromImage for an image already opened (and validated) with openImage. */
export async function goldenModelFromImage(image: ModelImage, opts: Omit<LoadImageOptions, 'hw' | 'verifyChecksums'> = {}): Promise<GoldenModel> {
  const pool = await GoldenModel.createPool(opts.threads);
  try {
    const weights = goldenWeightsFromImage(image, pool, {
      ...(opts.contextLength !== undefined ? { contextLength: opts.contextLength } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
    return GoldenModel.fromWeights(weights, pool, image.hw.config.numerics);
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** The image, its golden model and its tokenizer (what `tellme generate --model <image>` needs). */
export async function openImageModel(file: string, opts: LoadImageOptions = {}): Promise<ImageModel> {
  const image = openImage(file, {
    ...(opts.hw !== undefined ? { hw: opts.hw } : {}),
    ...(opts.verifyChecksums !== undefined ? { verifyChecksums: opts.verifyChecksums } : {}),
  });
  const tokenizer = imageTokenizer(image);
  const { hw: _hw, verifyChecksums: _v, ...rest } = opts;
  return { image, model: await goldenModelFromImage(image, rest), tokenizer };
}
