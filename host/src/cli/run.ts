/** Process entry of the `tellme` command (host/bin/tellme.js runs the compiled copy). */
import { main } from './main.js';

process.exitCode = await main(process.argv);
