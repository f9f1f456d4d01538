import { afterEach, describe, expect, it } from 'vitest';
import { RegionTracker } from '../../test/memory-helpers.js';
import { mappingAt } from '../native/mapped.js';
import { createRegion, openRegion } from './region.js';

const regions = new RegionTracker();
afterEach(() => regions.cleanup());

describe.runIf(process.platform === 'linux')(
  'mappingAt: the region behind a native address',
  () => {
    it('finds the region of every byte of a mapping, by name, and nothing past its end', () => {
      const region = regions.track(createRegion(regions.name(), 10_000));
      for (const offset of [0, 1, 4096, 9_999]) {
        const span = mappingAt(region.address + BigInt(offset));
        expect(span?.name).toBe(region.name);
        expect(span?.address).toBe(region.address);
      }
      expect(mappingAt(region.address + 10_000n)?.name).not.toBe(region.name);
      expect(mappingAt(region.address - 1n)?.name).not.toBe(region.name);
    });

    it('tells two mappings of the same region apart by address, and forgets each when it closes', () => {
      const created = regions.track(createRegion(regions.name(), 4096));
      const opened = regions.track(openRegion(created.name));
      expect(opened.address).not.toBe(created.address);
      const span = mappingAt(opened.address + 8n);
      expect(span?.address).toBe(opened.address);
      const closed: string[] = [];
      span?.onClose(() => closed.push('opened'));
      mappingAt(created.address)?.onClose(() => closed.push('created'));
      opened.close();
      expect(closed).toEqual(['opened']);
      expect(mappingAt(opened.address + 8n)).toBeUndefined();
      expect(mappingAt(created.address)?.name).toBe(created.name);
      opened.close(); // a second close runs no listener twice
      created.close();
      expect(closed).toEqual(['opened', 'created']);
    });
  },
);
