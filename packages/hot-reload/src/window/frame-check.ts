/** The one check every back end makes on a frame before reading it. */
import { InvalidArgumentError } from '../errors.js';
import type { Frame } from './types.js';

/**
 * A frame whose pixels end before its last row would make SDL read past the end of its memory:
 * a programmer error, caught before the C call. (Pitch must be a whole number of pixels.)
 */
export function checkFrame(frame: Frame): void {
  const { width, height, pitch, pixels } = frame;
  if (
    width > 0 &&
    height > 0 &&
    pitch >= width * 4 &&
    pitch % 4 === 0 &&
    pixels.byteLength >= pitch * (height - 1) + width * 4
  ) {
    return;
  }
  throw new InvalidArgumentError(
    `frame: expected width, height > 0, pitch a multiple of 4 and ≥ 4 × width, and pixels covering pitch × height bytes, got ${width}×${height}, pitch ${pitch}, ${pixels.byteLength} bytes`,
  );
}
