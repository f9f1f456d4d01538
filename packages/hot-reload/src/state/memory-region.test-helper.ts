/**
 * Test helper: a `Region` over a plain ArrayBuffer (no shared memory), for tests of the state
 * layer that only need bytes: migrations, descriptors, the owner's view.
 */
import type { Region } from '../memory/index.js';

export function memoryRegion(size: number, name = '/hotshm-test'): Region {
  const buffer = new ArrayBuffer(size);
  let closed = false;
  return {
    name,
    size,
    address: 0n,
    buffer,
    get closed() {
      return closed;
    },
    close() {
      closed = true;
    },
    unlink() {},
  };
}
