/**
 * The framebuffer's pixel format: part of its layout (two sides that disagree do not match), and
 * what the window uploads frames in.
 */
import { describe, expect, it } from 'vitest';
import { createFields } from '../../test/channel-context.js';
import { SchemaError } from '../errors.js';
import { framebuffer, type PixelFormat } from './index.js';

describe('framebuffer format', () => {
  it('is argb8888 unless asked, and says so in the schema, the signature and the accessor', () => {
    const argb = framebuffer(4, 2);
    const abgr = framebuffer(4, 2, { format: 'abgr8888' });
    expect(argb.format).toBe('argb8888');
    expect(argb.signature).toBe('framebuffer(4x2,argb8888,buffers=4)');
    expect(framebuffer(4, 2, { format: 'argb8888' }).signature).toBe(argb.signature);
    expect(abgr.format).toBe('abgr8888');
    expect(abgr.signature).toBe('framebuffer(4x2,abgr8888,buffers=4)');
    // Same bytes, another meaning: the size is the same, the layout is not.
    expect(abgr.size).toBe(argb.size);
    const owner = createFields([abgr] as const);
    try {
      expect(owner.fields[0].format).toBe('abgr8888');
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('refuses a format it does not know', () => {
    expect(() => framebuffer(4, 2, { format: 'rgb565' as PixelFormat })).toThrow(SchemaError);
    expect(() => framebuffer(4, 2, { format: 'rgba' as PixelFormat })).toThrow(
      "framebuffer: format: expected 'argb8888' or 'abgr8888', got \"rgba\"",
    );
  });
});
