/** The golden model as an InferenceSession (what the generation loop drives). */

import type { InferenceSession } from '../runtime/session.js';
import type { GoldenModel } from './model.js';

export function goldenSession(model: GoldenModel): InferenceSession {
  return {
    get contextLength() {
      return model.contextLength;
    },
    get position() {
      return model.position;
    },
    prefill: (ids) => model.prefill(ids)[0]!,
    decode: (id) => model.decode(id),
    verify: (ids, kvOffset) => model.verify(ids, kvOffset),
    setKvLength: (length) => model.setKvLength(length),
    reset: () => model.reset(),
  };
}
