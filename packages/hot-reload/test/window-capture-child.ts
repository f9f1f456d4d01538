/**
 * Child of window-capture.test.ts: captures stdout and stderr into the file argv[2], writes to
 * both (through console too), gives them back (removing the file if argv[3] is "remove"), then
 * writes once more. The test reads the file and this process's real stdout and stderr.
 */
import { captureOutput } from '../src/window/capture.js';

const [path, remove] = process.argv.slice(2);
const captured = captureOutput(path);
process.stdout.write('to stdout\n');
process.stderr.write('to stderr\n');
console.log('through console.log');
console.error('through console.error');
captured.restore({ remove: remove === 'remove' });
process.stdout.write('after restore\n');
process.stderr.write('after restore (stderr)\n');
