import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPid, RegionTracker, runUnder } from '../../test/memory-helpers.js';
import { createRegion, isProcessAlive, listStaleRegions, removeStaleRegions } from './index.js';
import { ownerPidOf, staleNames } from './stale.js';

const isLinux = process.platform === 'linux';
const shmPath = (name: string): string => `/dev/shm/${name.slice(1)}`;

const regions = new RegionTracker();
const files: string[] = [];
afterEach(() => {
  regions.cleanup();
  for (const file of files.splice(0)) rmSync(file, { force: true, recursive: true });
});

describe('stale-region logic (pure)', () => {
  it('reads the owner pid from our names only', () => {
    expect(ownerPidOf('/hotshm-1234-0a1b2c3d')).toBe(1234);
    expect(ownerPidOf('/hotshm-1234-0A1B2C3D')).toBeUndefined();
    expect(ownerPidOf('/hotshm-1234-0a1b2c3')).toBeUndefined();
    expect(ownerPidOf('/hotshm-0-0a1b2c3d')).toBeUndefined();
    expect(ownerPidOf('/hotshm-abc-0a1b2c3d')).toBeUndefined();
    expect(ownerPidOf('/other-1234-0a1b2c3d')).toBeUndefined();
    expect(ownerPidOf('hotshm-1234-0a1b2c3d')).toBeUndefined();
  });

  it('a name is stale only if it is ours and its pid is not alive', () => {
    const alive = new Set([10, 20]);
    expect(
      staleNames(
        ['/hotshm-10-00000000', '/hotshm-11-00000000', '/hotshm-20-ffffffff', '/x-11-00000000'],
        (pid) => alive.has(pid),
      ),
    ).toEqual(['/hotshm-11-00000000']);
  });

  it('isProcessAlive: this process yes, an exited one no, nonsense no', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(await deadPid())).toBe(false);
    expect(isProcessAlive(0)).toBe(false); // kill(0, 0) would signal our own group
    expect(isProcessAlive(-1)).toBe(false);
  });
});

describe.runIf(isLinux)('stale regions in /dev/shm (Linux)', () => {
  it('removes the region of an exited owner, keeps live ones, other names and other users’ regions', async () => {
    const dead = await deadPid();
    const staleName = regions.name(dead);
    regions.track(createRegion(staleName, 4096));
    const liveName = regions.name();
    regions.track(createRegion(liveName, 4096));
    // Not ours by name: same prefix but not the exact pattern, and another prefix altogether.
    const notOurs = [`/hotshm-${dead}-nothex00`, `/other-${dead}-0a1b2c3d`];
    for (const name of notOurs) {
      writeFileSync(shmPath(name), 'keep me');
      files.push(shmPath(name));
    }
    // Another user's region with a dead pid: only testable when we may chown (root).
    const othersName = regions.name(dead);
    const canChown = process.getuid?.() === 0;
    if (canChown) {
      regions.track(createRegion(othersName, 4096)).close();
      chownSync(shmPath(othersName), 65534, 65534);
    }

    // The outcomes below do not depend on whether another process (a parallel test file, an
    // owner starting up) runs its own stale scan at the same moment.
    const stale = listStaleRegions();
    expect(stale).not.toContain(liveName);
    expect(stale).not.toContain(othersName);
    for (const name of notOurs) expect(stale).not.toContain(name);

    const { removed } = removeStaleRegions();
    expect(existsSync(shmPath(staleName))).toBe(false);
    expect(existsSync(shmPath(liveName))).toBe(true);
    for (const name of notOurs) expect(existsSync(shmPath(name))).toBe(true);
    if (canChown) expect(statSync(shmPath(othersName)).uid).toBe(65534);
    // Every name it removed was a hotshm region of a dead pid.
    for (const name of removed) expect(isProcessAlive(ownerPidOf(name) ?? process.pid)).toBe(false);
    expect(listStaleRegions()).not.toContain(staleName);
  });

  // The test above shares /dev/shm with everything else on the machine, so it cannot insist that
  // *its* scan found the stale region. This one runs the scan in a child with a private, empty
  // /dev/shm (a mount namespace; needs CAP_SYS_ADMIN, skipped without it) and its own TMPDIR
  // (so it reads no other process's region records), where the result is exact.
  it.runIf(canMountPrivateShm())(
    'in a private /dev/shm: lists and removes exactly the dead owner’s region',
    async () => {
      const dead = await deadPid();
      const staleName = `/hotshm-${dead}-0a1b2c3d`;
      const liveName = `/hotshm-${process.pid}-0a1b2c3d`;
      const otherName = `/other-${dead}-0a1b2c3d`;
      const ownTmp = mkdtempSync(join(tmpdir(), 'hotshm-stale-test-'));
      files.push(ownTmp);
      const [line] = await runUnder(
        [
          'env',
          `TMPDIR=${ownTmp}`,
          'unshare',
          '-m',
          'sh',
          '-c',
          'mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$@"',
          '-',
        ],
        'stale-scan',
        staleName,
        liveName,
        otherName,
      );
      expect(JSON.parse(line ?? '')).toEqual({
        listed: [staleName],
        removed: [staleName],
        left: [liveName.slice(1), otherName.slice(1)].sort(),
      });
    },
  );
});

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
