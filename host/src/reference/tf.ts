/**
 * Loading TensorFlow.js for the float reference. The native binding (`@tensorflow/tfjs-node`)
 * is used when it is installed (it is not a dependency: it does not build everywhere); otherwise
 * `@tensorflow/tfjs` on the WebAssembly backend; the pure-JavaScript `cpu` backend is the last
 * resort. All three compute in binary32, which is what the reference needs; they differ only in
 * speed and in the summation order of their matmuls.
 *
 * TELLME_TF_BACKEND=node|wasm|cpu forces one (an error if it cannot be loaded).
 */

import { TellmeError } from '../errors.js';

/** The tfjs namespace (types only; the module is loaded at run time). */
export type Tf = typeof import('@tensorflow/tfjs');

export type TfBackendName = 'node' | 'wasm' | 'cpu';

export interface LoadedTf {
  tf: Tf;
  /** Which of the three was loaded. */
  backend: TfBackendName;
}

let loading: Promise<LoadedTf> | null = null;

const BACKEND_ENV = 'TELLME_TF_BACKEND';

/**
 * Import a module whose name is in a variable, so that TypeScript does not require it to be
 * installed (tfjs-node is optional).
 */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

async function tryNode(): Promise<LoadedTf> {
  const mod = (await importOptional('@tensorflow/tfjs-node')) as { default?: Tf } & Tf;
  const tf = (mod.default ?? mod) as Tf;
  await tf.setBackend('tensorflow');
  await tf.ready();
  return { tf, backend: 'node' };
}

async function tryWasm(): Promise<LoadedTf> {
  const tf = (await import('@tensorflow/tfjs')) as Tf;
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  return { tf, backend: 'wasm' };
}

async function tryCpu(): Promise<LoadedTf> {
  const tf = (await import('@tensorflow/tfjs')) as Tf;
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") returned false');
  await tf.ready();
  return { tf, backend: 'cpu' };
}

const LOADERS: Record<TfBackendName, () => Promise<LoadedTf>> = { node: tryNode, wasm: tryWasm, cpu: tryCpu };

async function load(): Promise<LoadedTf> {
  const forced = process.env[BACKEND_ENV];
  if (forced !== undefined && forced !== '') {
    if (!(forced in LOADERS)) {
      throw new TellmeError('E_USAGE', `${BACKEND_ENV}=${forced} is not a TensorFlow.js backend`, `set ${BACKEND_ENV} to node, wasm or cpu, or unset it`);
    }
    try {
      return await LOADERS[forced as TfBackendName]();
    } catch (e) {
      throw new TellmeError(
        'E_USAGE',
        `${BACKEND_ENV}=${forced}: the TensorFlow.js backend cannot be loaded (${(e as Error).message})`,
        forced === 'node' ? 'install @tensorflow/tfjs-node, or unset the variable to use the WebAssembly backend' : `unset ${BACKEND_ENV}`,
      );
    }
  }
  const errors: string[] = [];
  for (const name of ['node', 'wasm', 'cpu'] as const) {
    try {
      return await LOADERS[name]();
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new TellmeError('E_INTERNAL', `no TensorFlow.js backend could be loaded (${errors.join('; ')})`, 'run `npm ci` in the project root');
}

/** TensorFlow.js with the best available backend (loaded once per process). */
export function loadTf(): Promise<LoadedTf> {
  if (!loading) {
    loading = load();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
