/**
 * Layout fingerprints: the first 16 bytes of the SHA-256 of a schema's signature. Two processes
 * agree on a region's layout exactly when their fingerprints match, and 128 bits make an
 * accidental match between different layouts negligible.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { describe } from './shared.js';

/** Length in bytes of a fingerprint. */
export const FINGERPRINT_BYTES = 16;

/**
 * The 16-byte fingerprint of a signature.
 *
 * @example
 * fingerprint(struct({ x: u32 }).signature); // Uint8Array(16)
 */
export function fingerprint(signature: string): Uint8Array {
  if (typeof signature !== 'string') {
    throw new InvalidArgumentError(
      `fingerprint: expected a schema signature (a string), got ${describe(signature)}`,
    );
  }
  const digest = createHash('sha256').update(signature, 'utf8').digest();
  // A copy, so the result owns its bytes rather than a window on Node's pooled buffer.
  return new Uint8Array(digest.subarray(0, FINGERPRINT_BYTES));
}

/** The fingerprint as 32 lowercase hex digits, for messages and logs. */
export function fingerprintHex(signature: string): string {
  return Buffer.from(fingerprint(signature)).toString('hex');
}
