/**
 * A small English text (written for this project) from which the test tokenizer learns its BPE
 * merges. Varied but repetitive on purpose: frequent words and suffixes become single tokens.
 */
export const SAMPLE_TEXT = `The little board sits on the desk and waits for the next token.
It reads the weights from memory, adds the numbers, and writes the answer back.
A model is a long list of numbers, and the numbers are only minus one, zero, or one.
That is why the tables are small and the engine is fast: there is nothing to multiply.
The host sends a prompt, the board thinks for a while, and then the words come back one by one.
What is your favourite food? I like bread, rice, and soup, but the board likes none of them.
How are you today? I am fine, thank you. The weather is warm and the sky is clear.
We are going to the market this morning to buy apples, oranges, and some fresh bread.
The quick brown fox jumps over the lazy dog, and the dog does not seem to mind at all.
When the people of the town heard the news, they went out into the streets and talked.
She said that the train would be late, so we waited in the station and read the paper.
There are many ways to learn a language: reading, writing, listening, and speaking every day.
The children played in the garden until the sun went down and the air became cold.
In the beginning the program was slow, but the engineers made it faster and faster.
Every layer of the network takes the hidden state, normalises it, and passes it on.
The attention heads look back at the earlier tokens and decide which ones matter most.
Numbers like 1, 2, 3, 10, 42, 100 and 2024 appear in the text too, as do questions and answers.
Thank you for reading this far. The end is near, and the next line is the last one.
Good night, and see you tomorrow morning when the board wakes up and starts again.`;
