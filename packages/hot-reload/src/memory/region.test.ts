import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RegionTracker, runChild, runUnder, startChild } from '../../test/memory-helpers.js';
import {
  InvalidArgumentError,
  RegionExistsError,
  RegionNotFoundError,
  SizeMismatchError,
} from '../errors.js';
import { createRegion, newRegionName, openRegion, unlinkRegion } from './index.js';

const isLinux = process.platform === 'linux';
const shmPath = (name: string): string => `/dev/shm/${name.slice(1)}`;

function canMountPrivateShm(): boolean {
  if (!isLinux) return false;
  const probe = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /dev/shm'],
    {
      stdio: 'ignore',
    },
  );
  return probe.status === 0;
}

const regions = new RegionTracker();
afterEach(() => regions.cleanup());

describe.runIf(isLinux)('createRegion / openRegion (Linux)', () => {
  it('creates a zeroed region of the asked size that a second mapping sees', () => {
    const name = regions.name();
    const created = regions.track(createRegion(name, 10_000));
    expect(created.name).toBe(name);
    expect(created.size).toBe(10_000);
    expect(created.buffer.byteLength).toBe(10_000);
    expect(typeof created.address).toBe('bigint');
    expect(new Uint8Array(created.buffer).every((byte) => byte === 0)).toBe(true);

    const opened = regions.track(openRegion(name));
    expect(opened.size).toBe(10_000);
    expect(opened.address).not.toBe(created.address);
    new Uint32Array(created.buffer)[100] = 0xdeadbeef;
    expect(new Uint32Array(opened.buffer)[100]).toBe(0xdeadbeef);
  });

  it('close is idempotent and unlink removes the name', () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    expect(region.closed).toBe(false);
    region.close();
    region.close();
    expect(region.closed).toBe(true);
    expect(existsSync(shmPath(name))).toBe(true);
    region.unlink();
    region.unlink();
    expect(existsSync(shmPath(name))).toBe(false);
    expect(() => openRegion(name)).toThrow(RegionNotFoundError);
    expect(unlinkRegion(name)).toBe(false);
  });

  it('unlinkRegion reports whether the name existed', () => {
    const name = regions.name();
    regions.track(createRegion(name, 4096));
    expect(unlinkRegion(name)).toBe(true);
    expect(unlinkRegion(name)).toBe(false);
  });

  it('a second create of the same name fails and leaves the existing region untouched', () => {
    const name = regions.name();
    const first = regions.track(createRegion(name, 8192));
    new Int32Array(first.buffer)[0] = 1234;
    expect(() => createRegion(name, 4096)).toThrow(RegionExistsError);
    expect(() => createRegion(name, 4096)).toThrow(`region ${name} already exists`);
    // Same size, same contents: the failed create neither truncated nor zeroed it.
    expect(statSync(shmPath(name)).size).toBe(8192);
    const again = regions.track(openRegion(name));
    expect(again.size).toBe(8192);
    expect(new Int32Array(again.buffer)[0]).toBe(1234);
  });

  it('creates regions with mode 0600', () => {
    const name = regions.name();
    regions.track(createRegion(name, 4096));
    expect(statSync(shmPath(name)).mode & 0o777).toBe(0o600);
  });

  it('opening a name that does not exist throws RegionNotFoundError', () => {
    const name = newRegionName();
    expect(() => openRegion(name)).toThrow(RegionNotFoundError);
    expect(() => openRegion(name)).toThrow(`region ${name} does not exist`);
  });

  // /dev/shm here is far larger than the 4 GiB a region may have, so the child runs in a private
  // mount namespace with a 1 MiB tmpfs on /dev/shm. That needs privileges (CAP_SYS_ADMIN); where
  // they are missing the test is skipped rather than faked.
  it.runIf(canMountPrivateShm())(
    'reserves the pages: a region larger than /dev/shm fails at creation, names the need, leaves nothing',
    async () => {
      const name = newRegionName();
      const inSmallShm = (size: number, reserve: 0 | 1) =>
        runUnder(
          [
            'unshare',
            '-m',
            'sh',
            '-c',
            'mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$@"',
            '-',
          ],
          'try-create',
          name,
          size,
          reserve,
        );
      const twoMiB = 2 * 1024 * 1024;
      expect(await inSmallShm(twoMiB, 1)).toEqual([
        `RegionSystemError|posix_fallocate|posix_fallocate failed: /dev/shm is full: needed ${twoMiB} bytes for region ${name} (No space left on device) (errno 28)`,
      ]);
      // Without the reservation tmpfs accepts the size (pages come later, or SIGBUS does).
      expect(await inSmallShm(twoMiB, 0)).toEqual([`ok ${twoMiB}`]);
      // And one that fits is fine with the reservation.
      expect(await inSmallShm(512 * 1024, 1)).toEqual([`ok ${512 * 1024}`]);
    },
  );

  it('refuses to open a region over 4 GiB (one view cannot hold it) and leaves it alone', () => {
    const name = regions.name();
    const size = 2 ** 32 + 4096;
    // Made by hand (a sparse file in /dev/shm is a shm object): createRegion would refuse it.
    writeFileSync(shmPath(name), '', { mode: 0o600 });
    truncateSync(shmPath(name), size);
    expect(() => openRegion(name)).toThrow(SizeMismatchError);
    expect(() => openRegion(name)).toThrow(
      `region ${name} is ${size} bytes: expected at most ${2 ** 32} (4 GiB)`,
    );
    expect(statSync(shmPath(name)).size).toBe(size);
  });

  it('does not leak file descriptors over 200 create/open/close/unlink cycles', () => {
    const count = (): number => readdirSync('/proc/self/fd').length;
    const before = count();
    for (let i = 0; i < 200; i++) {
      const name = regions.name();
      const region = createRegion(name, 4096);
      const opened = openRegion(name);
      opened.close();
      region.close();
      region.unlink();
    }
    // A leak would be 400 descriptors; allow for the odd descriptor the runtime opens meanwhile.
    expect(count()).toBeLessThan(before + 5);
  });
});

describe.runIf(isLinux)('close keeps stale views safe (Linux)', () => {
  it('a typed array made before close reads zeros afterwards instead of crashing', () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 3 * 4096));
    const view = new Uint32Array(region.buffer);
    view[0] = 11;
    view[3 * 1024 - 1] = 22;
    region.close();
    // A munmap here would make the next line a SIGSEGV that kills the test process.
    expect(view[0]).toBe(0);
    expect(view[3 * 1024 - 1]).toBe(0);
    view[5] = 99; // writes land in private memory, never in the region
    expect(view[5]).toBe(99);
    const reopened = regions.track(openRegion(name));
    const fresh = new Uint32Array(reopened.buffer);
    expect(fresh[0]).toBe(11);
    expect(fresh[3 * 1024 - 1]).toBe(22);
    expect(fresh[5]).toBe(0);
  });

  it("after close, another process's writes are no longer seen through the stale view", async () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    const view = new Int32Array(region.buffer);
    await runChild('write', name, 1, 41);
    expect(Atomics.load(view, 1)).toBe(41); // before close: shared
    region.close();
    await runChild('write', name, 2, 42);
    expect(Atomics.load(view, 2)).toBe(0); // after close: not shared any more
    expect(Atomics.load(new Int32Array(regions.track(openRegion(name)).buffer), 2)).toBe(42);
  });
});

describe.runIf(isLinux)('two real processes (Linux)', () => {
  it('parent creates, child writes; the parent sees it', async () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    expect(await runChild('write', name, 7, 123_456)).toEqual(['ok']);
    expect(Atomics.load(new Int32Array(region.buffer), 7)).toBe(123_456);
  });

  it('parent creates and writes; the child reads it', async () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    Atomics.store(new Int32Array(region.buffer), 9, -77);
    expect(await runChild('read', name, 9)).toEqual(['-77']);
  });

  it('child creates and writes, parent opens, reads and answers; the child sees the answer', async () => {
    const name = regions.name();
    const child = startChild('create', name, 8192, 3, 2024, 4);
    expect(await child.line()).toBe('ready');
    const region = regions.track(openRegion(name));
    expect(region.size).toBe(8192);
    const i32 = new Int32Array(region.buffer);
    expect(Atomics.load(i32, 3)).toBe(2024);
    Atomics.store(i32, 4, 4048);
    child.send('go');
    expect(await child.line()).toBe('4048');
    expect((await child.exited).code).toBe(0);
    expect(existsSync(shmPath(name))).toBe(false); // the child unlinked it
  });

  it('Atomics.add from two processes at once loses no update', async () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    const i32 = new Int32Array(region.buffer);
    const [STARTED, GO, COUNTER] = [0, 1, 16]; // the counter on its own cache line
    const N = 200_000;
    const child = startChild('add', name, STARTED, GO, COUNTER, N);
    // Wait (without blocking the event loop) until the child is mapped and spinning on GO, so
    // the two loops below really overlap.
    while (Atomics.load(i32, STARTED) !== 1) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(i32, GO, 1);
    for (let i = 0; i < N; i++) Atomics.add(i32, COUNTER, 1);
    expect((await child.exited).code).toBe(0);
    expect(Atomics.load(i32, COUNTER)).toBe(2 * N);
  });

  it('ping-pong through Atomics: each side sees the other side’s stores in order', async () => {
    const name = regions.name();
    const region = regions.track(createRegion(name, 4096));
    const i32 = new Int32Array(region.buffer);
    const [PING, PONG] = [0, 16];
    const ROUNDS = 1000;
    const child = startChild('pong', name, PING, PONG, ROUNDS);
    // Only a guard against a dead child hanging this synchronous loop, not a timing assertion.
    const deadline = Date.now() + 30_000;
    for (let round = 1; round <= ROUNDS; round++) {
      Atomics.store(i32, PING, round);
      // The child needs a moment to start; yield while it has not answered the first ping.
      while (Atomics.load(i32, PONG) !== round) {
        if (round === 1) await new Promise((r) => setTimeout(r, 1));
        if (Date.now() > deadline) throw new Error(`no pong for round ${round}`);
      }
    }
    expect((await child.exited).code).toBe(0);
    expect(Atomics.load(i32, PONG)).toBe(ROUNDS);
  });
});

describe('argument validation (any platform)', () => {
  it.each([
    ['hotshm-1', "starting with '/'"],
    ['/', "'/' followed by one or more"],
    ['/a/b', "no other '/'"],
    ['/a b', '[A-Za-z0-9._-]'],
    ['/..', "'/' followed by one or more"],
    [`/${'a'.repeat(31)}`, 'at most 31 characters (the macOS limit), got 32'],
  ])('rejects the name %j', (name, message) => {
    expect(() => createRegion(name, 4096)).toThrow(InvalidArgumentError);
    expect(() => createRegion(name, 4096)).toThrow(message);
    expect(() => openRegion(name)).toThrow(InvalidArgumentError);
    expect(() => unlinkRegion(name)).toThrow(InvalidArgumentError);
  });

  it('rejects a name that is not a string', () => {
    expect(() => openRegion(42 as unknown as string)).toThrow(
      'region name: expected a string, got 42',
    );
  });

  it.each([
    [0, 'expected a positive integer number of bytes, got 0'],
    [-1, 'got -1'],
    [1.5, 'got 1.5'],
    [Number.NaN, 'got NaN'],
    ['4096', 'got "4096"'],
    [2 ** 32 + 1, `expected at most ${2 ** 32} bytes (4 GiB), got ${2 ** 32 + 1}`],
  ])('rejects the size %j', (size, message) => {
    expect(() => createRegion('/hotshm-test', size as number)).toThrow(InvalidArgumentError);
    expect(() => createRegion('/hotshm-test', size as number)).toThrow(message);
  });

  it('rejects a non-boolean reserve option', () => {
    expect(() =>
      createRegion('/hotshm-test', 4096, { reserve: 'yes' as unknown as boolean }),
    ).toThrow('options.reserve: expected a boolean, got "yes"');
  });

  it('newRegionName makes distinct names of the documented shape within 31 characters', () => {
    const names = new Set(Array.from({ length: 100 }, () => newRegionName()));
    expect(names.size).toBe(100);
    for (const name of names) {
      expect(name).toMatch(new RegExp(`^/hotshm-${process.pid}-[0-9a-f]{8}$`));
    }
    expect(newRegionName(4_194_304)).toMatch(/^\/hotshm-4194304-[0-9a-f]{8}$/);
    expect(newRegionName(4_194_304).length).toBeLessThanOrEqual(31);
    expect(() => newRegionName(0)).toThrow('pid: expected a positive integer, got 0');
  });
});
