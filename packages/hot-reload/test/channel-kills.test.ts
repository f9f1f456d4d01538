/**
 * What a renderer killed at a random moment does to the messages sent to it, in each delivery
 * mode, with real processes over a real region. The owner (this process) sends a numbered stream
 * without pause into a ring of 64; renderers (channel-child.ts `handle`) take them in one of the
 * ways an app does (one at a time with recvSync, `for await`, a frame loop's drain, drain with an
 * ack after each message), spend a few random microseconds on each, then record its effect in a
 * log region; a SIGKILL lands at a random moment, the owner releases the dead renderer's claims
 * (as the host does on every exit) and starts the next renderer. At the end every message sent is
 * accounted for by the number of times its effect was recorded:
 *   - 0: lost (a renderer took it and died before using it);
 *   - 2, first handled by a renderer that was killed while the message was still uncommitted:
 *     redelivered — the kill landed after the effect and before the renderer asked for the next
 *     message (handled delivery hands the message on; nothing can tell "handled" from "about to be");
 *   - 2 otherwise, or more: doubled, which no mode may do.
 * Within a renderer the messages must follow each other, and the next renderer must start where
 * the killed one stopped (handled: at its uncommitted messages; taken: after them).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Channel, Delivery } from '../src/channel/index.js';
import { HEADER_SIZE, HeaderSlot } from '../src/memory/header.js';
import { createRegion, newRegionName } from '../src/memory/index.js';
import { createFields } from './channel-context.js';
import {
  KILL_MESSAGES,
  KillLog,
  type KillStyle,
  layouts,
  type Mixed,
  mixed,
} from './channel-schemas.js';
import { type Child, spawnChild } from './channel-spawn.js';

const nap = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Most microseconds a renderer spends on one message before its effect: enough that the ring
 * stays full (the owner sends 64 a millisecond) and a kill mostly lands while it handles one.
 */
const WORK_MICROS = 200;
/** Kills per run (HOTSHM_CHANNEL_KILLS for longer runs, e.g. for figures). */
const KILLS = Number(process.env.HOTSHM_CHANNEL_KILLS ?? 6);

interface Tally {
  kills: number;
  sent: number;
  lost: number;
  redelivered: number;
  doubled: number;
  poisoned: number[];
}

interface RunOptions {
  readonly delivery: Delivery;
  readonly style: KillStyle;
  readonly kills: number;
  /**
   * Start the next renderer (its epoch begun) while the old one still runs, then SIGKILL the old
   * one after a random delay (odd hand-overs: retire it instead, and it exits on its own).
   */
  readonly overlap?: boolean;
  /** A message that crashes every renderer that handles it. */
  readonly poison?: number;
}

const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.log(`channel kills:\n${figures.join('\n')}`);
});

async function until(what: string, ok: () => boolean, child?: Child): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  void child?.exited.then(() => {
    exited = true;
  });
  while (!ok()) {
    if (exited) throw new Error(`${what}: the renderer exited first`);
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await nap(1);
  }
}

async function killRun(options: RunOptions): Promise<Tally> {
  const layout = options.delivery === 'handled' ? 'handledClicks' : 'clicks';
  const owner = createFields(layouts[layout]);
  const logRegion = createRegion(newRegionName(), KillLog.words * 4);
  const log = new Int32Array(logRegion.buffer, 0, KillLog.words);
  const header = new Int32Array(owner.ctx.buffer, 0, HEADER_SIZE / 4);
  const ch = owner.fields[0] as Channel<Mixed>;
  const word = (base: number, i: number): number => Atomics.load(log, base + i);
  const ring = new Int32Array(owner.ctx.buffer, owner.offsets[0]!, 32);
  /**
   * After a crash, what the crashed renderer held is suspect, and a suspect whose next holder
   * crashes too is dropped as poison: a random kill must not be that second crash.
   */
  const pastSuspects = (): boolean => {
    const ahead = (Atomics.load(ring, 20) - Atomics.load(ring, 16)) >>> 0;
    return ahead === 0 || ahead > 64;
  };
  const killed = new Set<number>();
  const poisoned: number[] = [];
  let sent = 0;
  let producing = true;
  const producer = (async () => {
    while (producing && sent < KILL_MESSAGES) {
      while (sent < KILL_MESSAGES && ch.trySend(mixed(sent))) sent++;
      await nap(0);
    }
  })();
  const start = (epoch: number): Child => {
    // What the renderer's reloadable() does: from now on the older renderers are superseded.
    Atomics.store(header, HeaderSlot.epoch, epoch);
    return spawnChild('channel-child.ts', [
      'handle',
      owner.ctx.regionName,
      layout,
      logRegion.name,
      epoch,
      options.style,
      options.poison ?? -1,
      WORK_MICROS,
    ]);
  };
  const release = (epoch: number, crashed: boolean): void => {
    const { poison } = ch.releaseClaims(epoch, { crashed });
    if (poison) poisoned.push(poison.index);
  };
  const children: Child[] = [];
  try {
    let epoch = 1;
    let current = start(epoch);
    children.push(current);
    for (let k = 0; k < options.kills; k++) {
      // Each renderer handles a few messages (two at least: the message the last one held, then
      // one more, so that no message is held by two renderers that were killed in a row).
      const threshold = 2 + Math.floor(Math.random() * 150);
      const crashes = options.poison !== undefined;
      if (!crashes) {
        await until(
          `renderer ${epoch} handling ${threshold} messages`,
          () => word(KillLog.progress, epoch) >= threshold && pastSuspects(),
          current,
        );
      }
      const old = current;
      const oldEpoch = epoch;
      if (options.overlap) {
        current = start(++epoch);
        children.push(current);
        if (k % 2 === 1) {
          Atomics.store(header, HeaderSlot.retired, oldEpoch);
          expect(await old.result).toMatchObject({ epoch: oldEpoch });
          release(oldEpoch, false);
          continue;
        }
        await nap(Math.random() * 400);
      } else if (!crashes) {
        await nap(Math.random() * 2);
      }
      if (crashes) {
        // The poison message kills it by itself.
        const exit = await old.exited;
        expect(exit.code).toBe(1);
      } else {
        old.process.kill('SIGKILL');
        expect((await old.exited).signal).toBe('SIGKILL');
      }
      killed.add(oldEpoch);
      release(oldEpoch, true);
      if (!options.overlap) {
        current = start(++epoch);
        children.push(current);
      }
    }
    // The end: no more sends; the last renderer takes everything, then is retired and exits.
    producing = false;
    await producer;
    await until('the ring empties', () => ch.length === 0, current);
    Atomics.store(header, HeaderSlot.retired, epoch);
    await current.result;
    expect(ch.releaseClaims(epoch, { crashed: false })).toEqual({ released: 0 });

    expect(word(KillLog.error, 0), `error at message ${word(KillLog.errorAt, 0)}`).toBe(0);
    const tally: Tally = {
      kills: killed.size,
      sent,
      lost: 0,
      redelivered: 0,
      doubled: 0,
      poisoned,
    };
    for (let seq = 0; seq < sent; seq++) {
      const count = word(KillLog.counts, seq);
      if (count === 1) continue;
      if (count === 0) {
        if (!poisoned.includes(seq)) tally.lost++;
        continue;
      }
      const first = word(KillLog.by, seq);
      const uncommitted = killed.has(first) && seq + 1 >= word(KillLog.batchStart, first);
      if (count === 2 && uncommitted) tally.redelivered++;
      else tally.doubled++;
    }
    // Each renderer started where the one before it stopped.
    for (let e = 2; e <= epoch; e++) {
      const first = word(KillLog.first, e) - 1;
      const previousLast = word(KillLog.last, e - 1) - 1;
      if (first < 0 || previousLast < 0) continue;
      const from =
        options.delivery === 'handled' ? word(KillLog.batchStart, e - 1) - 1 : previousLast + 1;
      expect(first, `renderer ${e}'s first message`).toBeGreaterThanOrEqual(from);
      // Handled delivery skips nothing; taken delivery one at a time loses at most the one
      // message the killed renderer held (a drain, its whole batch).
      if (options.delivery === 'handled') {
        expect(first, `renderer ${e}'s first message`).toBeLessThanOrEqual(previousLast + 1);
      } else if (options.style !== 'drain') {
        expect(first, `renderer ${e}'s first message`).toBeLessThanOrEqual(previousLast + 2);
      }
    }
    const per = (n: number) => (tally.kills === 0 ? '-' : (n / tally.kills).toFixed(2));
    figures.push(
      `  ${options.delivery.padEnd(7)} ${options.style.padEnd(9)} ${options.overlap ? 'hand-over' : 'kill     '}  kills ${tally.kills}, sent ${sent}: lost ${tally.lost} (${per(tally.lost)}/kill), redelivered ${tally.redelivered} (${per(tally.redelivered)}/kill), doubled ${tally.doubled}, poison ${JSON.stringify(poisoned)}`,
    );
    return tally;
  } finally {
    producing = false;
    await producer;
    for (const c of children) c.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    owner.ctx.region.unlink();
    owner.ctx.region.close();
    logRegion.unlink();
    logRegion.close();
  }
}

describe('renderers killed at random moments', () => {
  for (const style of ['one', 'await', 'drain-ack'] as const) {
    it(`handled delivery, ${style}: none lost, none doubled; at most the one message in hand is redelivered per kill`, async () => {
      const t = await killRun({ delivery: 'handled', style, kills: KILLS });
      expect(t.kills).toBe(KILLS);
      expect(t.lost).toBe(0);
      expect(t.doubled).toBe(0);
      expect(t.poisoned).toEqual([]);
      expect(t.redelivered).toBeLessThanOrEqual(t.kills);
    }, 120_000);
  }

  it('handled delivery, drain without acks: none lost, none doubled; a killed frame loop’s handled part of its batch comes again', async () => {
    const t = await killRun({ delivery: 'handled', style: 'drain', kills: KILLS });
    expect(t.lost).toBe(0);
    expect(t.doubled).toBe(0);
    expect(t.poisoned).toEqual([]);
    expect(t.redelivered).toBeLessThanOrEqual(t.kills * 64);
  }, 120_000);

  for (const style of ['drain', 'one'] as const) {
    it(`taken delivery, ${style}: none doubled; what a killed renderer took and had not used is lost`, async () => {
      const t = await killRun({ delivery: 'taken', style, kills: KILLS });
      expect(t.doubled).toBe(0);
      expect(t.redelivered).toBe(0);
      // At most what it held: a batch of the ring (drain) or one message.
      expect(t.lost).toBeLessThanOrEqual(t.kills * (style === 'drain' ? 64 : 1));
    }, 120_000);
  }

  for (const delivery of ['handled', 'taken'] as const) {
    it(`${delivery} delivery across hand-overs (the next renderer running, the old one killed or retired): in order, none doubled${delivery === 'handled' ? ', none lost' : ''}`, async () => {
      const t = await killRun({ delivery, style: 'await', kills: 4, overlap: true });
      expect(t.doubled).toBe(0);
      expect(t.poisoned).toEqual([]);
      if (delivery === 'handled') {
        expect(t.lost).toBe(0);
        expect(t.redelivered).toBeLessThanOrEqual(t.kills);
      } else {
        expect(t.lost).toBeLessThanOrEqual(t.kills);
      }
    }, 120_000);
  }
});

describe('a message that crashes every renderer', () => {
  it('is handed to the next renderer once, then dropped as poison and reported; the rest arrive once, in order', async () => {
    const t = await killRun({ delivery: 'handled', style: 'await', kills: 2, poison: 300 });
    expect(t.poisoned).toEqual([300]);
    expect(t.lost).toBe(0);
    expect(t.doubled).toBe(0);
  }, 120_000);
});
