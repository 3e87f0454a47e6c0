/**
 * Printing a generation as it streams: the text of the tokens so far (decoding the whole
 * continuation each time and printing what is new, so characters split across tokens come out
 * whole), or nothing while streaming when there is no tokenizer or JSON is asked for; then the
 * end: the rest of the text, the ids, or the JSON object.
 */

import type { TokenizerBundle } from '../checkpoint/types.js';

export interface GenerationSummary {
  ids: readonly number[];
  stopReason: string;
  promptTokens: number;
  /** Decode or verify passes after the prompt, when the backend counts them. */
  passes?: number;
}

export class TokenPrinter {
  private printed = '';
  private readonly ids: number[] = [];
  private readonly streaming: boolean;

  constructor(
    private readonly tok: TokenizerBundle | null,
    private readonly json: boolean,
    private readonly out: (s: string) => void = (s) => process.stdout.write(s),
  ) {
    this.streaming = !json && tok !== null;
  }

  /** Echo the prompt text before the continuation (text mode only). */
  prompt(text: string | undefined): void {
    if (this.streaming && text !== undefined) this.out(text);
  }

  token(id: number): void {
    this.ids.push(id);
    if (!this.streaming) return;
    const text = this.tok!.decode(this.ids, { skipSpecialTokens: true });
    if (text.startsWith(this.printed) && !text.endsWith('\uFFFD')) {
      this.out(text.slice(this.printed.length));
      this.printed = text;
    }
  }

  finish(r: GenerationSummary): void {
    if (this.json) {
      this.out(
        JSON.stringify({
          ids: r.ids,
          stop_reason: r.stopReason,
          prompt_tokens: r.promptTokens,
          ...(r.passes !== undefined ? { passes: r.passes } : {}),
          ...(this.tok ? { text: this.tok.decode([...r.ids], { skipSpecialTokens: true }) } : {}),
        }) + '\n',
      );
    } else if (this.streaming) {
      const text = this.tok!.decode(this.ids, { skipSpecialTokens: true });
      this.out((text.startsWith(this.printed) ? text.slice(this.printed.length) : '') + '\n');
    } else {
      this.out(r.ids.join(',') + '\n');
    }
  }
}
