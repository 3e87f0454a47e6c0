/**
 * What the converter's chat-template check renders (host/src/image/convert-inputs.ts,
 * checkTextSide): one user message "Hello" with the generation prompt, the conversation `tellme
 * chat` starts with. Templates that fail only on some part of it show that each part is rendered:
 * a user turn, non-empty content, the generation-prompt branch. Each test renders on the worker
 * thread with its 10 s limit, so this file is kept out of the mutation set (folders.mjs); its
 * mutants are applied by hand (tools/mutation/static.mjs).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { readConvertInputs } from '../../host/src/image/convert-inputs.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson } from '../checkpoint/helpers.js';
import { expectTellme, tmpDir } from './helpers.js';

function withTemplate(template: string) {
  const dir = tmpDir('model');
  writeTestModel(dir, { preset: 'hf1bitllm-tiny' });
  editJson(path.join(dir, 'tokenizer_config.json'), (j) => void (j.chat_template = template));
  return openCheckpoint(dir);
}

async function expectRefused(template: string, why: string) {
  const ckpt = withTemplate(template);
  const tokenizer = path.join(ckpt.dir, 'tokenizer.json');
  const err = await expectTellme(() => readConvertInputs(ckpt), 'E_TOKENIZER', `${path.join(ckpt.dir, 'tokenizer_config.json')}: chat_template failed to render: `, why);
  expect(err.fix).toBe(`Fix the file named above (or re-download it); to convert without a tokenizer, move ${tokenizer} out of the checkpoint (the image then takes --ids only).`);
}

describe('the chat-template check renders one user message with the generation prompt', () => {
  it('a template that refuses user turns is refused (the check renders a user message)', async () => {
    await expectRefused("{% for m in messages %}{% if m['role'] == 'user' %}{{ raise_exception('no user turns') }}{% endif %}{{ m['content'] }}{% endfor %}", 'no user turns');
  });

  it('a template that fails only in its generation-prompt branch is refused', async () => {
    await expectRefused("{% for m in messages %}{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}{{ raise_exception('no prompt branch') }}{% endif %}", 'no prompt branch');
  });

  it('a template that refuses empty messages is accepted (the check\'s message has content)', () => {
    const template = "{% for m in messages %}{% if m['content'] | length == 0 %}{{ raise_exception('empty message') }}{% endif %}{{ m['role'] }}: {{ m['content'] }}{% endfor %}";
    expect(readConvertInputs(withTemplate(template)).chatTemplate).toBe(template);
  });
});
