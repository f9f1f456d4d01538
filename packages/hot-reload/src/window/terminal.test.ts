/**
 * The terminal back end's stream callbacks run outside the frame loop, where a throw would end the
 * process: what they throw comes out of the next poll() instead, which the loop reports once and
 * survives. Fake streams stand in for the terminal (the real one is tested in tmux).
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WindowFrameError } from './errors.js';
import { TerminalBackend } from './terminal.js';
import { openWindow } from './window.js';

class FakeInput extends EventEmitter {
  readonly isTTY = true;
  setRawMode(): this {
    return this;
  }
  setEncoding(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

class FakeOutput extends EventEmitter {
  readonly isTTY = true;
  readonly fd = openSync('/dev/null', 'w');
  columns = 80;
  rows = 24;
  written = '';
  write(text: string): boolean {
    this.written += text;
    return true;
  }
}

const opened: { backend: TerminalBackend; output: FakeOutput }[] = [];
function open(): { backend: TerminalBackend; input: FakeInput; output: FakeOutput } {
  const input = new FakeInput();
  const output = new FakeOutput();
  const backend = new TerminalBackend({
    width: 8,
    height: 4,
    title: 't',
    input: input as unknown as NodeJS.ReadStream,
    output: output as unknown as NodeJS.WriteStream,
  });
  opened.push({ backend, output });
  return { backend, input, output };
}
afterEach(() => {
  for (const { backend, output } of opened.splice(0)) {
    backend.close();
    closeSync(output.fd);
  }
});

/** A chunk whose text cannot be read: decoding it throws inside the 'data' listener. */
const unreadable = {
  toString: () => {
    throw new Error('unreadable chunk');
  },
};

describe('terminal back end callbacks', () => {
  it('keeps what a data or resize listener throws and throws it from the next poll, once', () => {
    const { backend, input, output } = open();
    expect(() => input.emit('data', unreadable)).not.toThrow();
    expect(() => backend.poll()).toThrowError('unreadable chunk');
    expect(backend.poll().events).toEqual([]);
    Object.defineProperty(output, 'columns', {
      get: () => {
        throw new Error('no size');
      },
    });
    expect(() => output.emit('resize')).not.toThrow();
    expect(() => backend.poll()).toThrowError('no size');
  });

  it('in a window, is reported as a poll failure and the loop goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { backend, input } = open();
    const errors: WindowFrameError[] = [];
    const fb = { width: 8, height: 4, acquireFront: () => null, releaseFront: () => {} };
    const w = await openWindow(
      { framebuffer: fb },
      { backend, onError: (e) => errors.push(e), terminalLog: false },
    );
    try {
      input.emit('data', unreadable);
      const before = w.stats().frames;
      vi.advanceTimersByTime(100);
      expect(w.stats().frames).toBeGreaterThan(before);
      expect(errors.map((e) => [e.stage, e.message])).toEqual([
        ['poll', 'window poll: unreadable chunk'],
      ]);
      input.emit('data', 'a');
      vi.advanceTimersByTime(100);
      expect(errors).toHaveLength(1);
    } finally {
      await w.close();
      vi.useRealTimers();
    }
  });
});
