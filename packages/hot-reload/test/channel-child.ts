/**
 * Child process of the channel tests and benchmark:
 *   node --import tsx test/channel-child.ts <mode> <regionName> [args…]
 * It opens the region by name and binds the same fields as the parent (channel-schemas.ts).
 * Results go to stdout as one JSON line.
 */
import type { Channel } from '../src/channel/index.js';
import { ChannelClosedError } from '../src/errors.js';
import { openRegion } from '../src/memory/index.js';
import {
  parkerStats,
  type SharedWord,
  sharedWord,
  storeAndWake,
  syncBackendName,
  waitSync,
} from '../src/sync/index.js';
import { openFields } from './channel-context.js';
import {
  type Big,
  big,
  KillLog,
  type KillStyle,
  layouts,
  type Mixed,
  mixed,
  mixedError,
} from './channel-schemas.js';

const [mode = '', regionName = '', ...args] = process.argv.slice(2);
const numbers = args.map(Number);

const nap = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}
function spin(micros: number): void {
  const end = performance.now() + micros / 1000;
  while (performance.now() < end);
}
function report(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Sends seq from..to-1, waiting (short naps) while the ring is full. */
function produce(layout: 'mixed' | 'small' | 'big', from: number, to: number): void {
  const { fields } = openFields(layouts[layout], regionName);
  const ch = fields[0] as Channel<Mixed | Big>;
  const make = layout === 'big' ? big : mixed;
  for (let seq = from; seq < to; seq++) {
    const m = make(seq);
    while (!ch.trySend(m)) sleep(0.05);
  }
  report({ sent: to - from });
}

/** Takes `count` messages, checking they follow each other from the first one. */
function consume(layout: 'mixed' | 'small', count: number): void {
  const { fields, scratch } = openFields(layouts[layout], regionName);
  const ch = fields[0];
  let first = -1;
  for (let i = 0; i < count; i++) {
    const m = ch.recvSync(30_000);
    if (m === undefined) {
      report({ error: `no message ${i} within 30 s` });
      return;
    }
    if (first < 0) first = m.seq;
    const error = mixedError(m, first + i);
    if (error !== null) {
      report({ error, first, count: i });
      return;
    }
    // Progress for the parent (it kills this process at some point).
    Atomics.store(scratch, 0, i + 1);
  }
  report({ first, count });
}

/**
 * A renderer's input loop, for the kill tests: takes messages in `style` as the renderer of
 * `epoch`, handles each (a random few microseconds of work, so that kills land mid-handling, then
 * the effect: counted in the log region), and checks that they follow each other. With
 * `poison` ≥ 0, that message crashes it (an uncaught exception while handling it). A renderer
 * whose owner retires it ends its loop and exits 0.
 */
async function handle(
  layout: 'clicks' | 'handledClicks',
  logName: string,
  epoch: number,
  style: KillStyle,
  poison: number,
  workMicros: number,
): Promise<void> {
  const { fields } = openFields(layouts[layout], regionName, 'reloadable', epoch);
  const ch = fields[0];
  const log = new Int32Array(openRegion(logName).buffer, 0, KillLog.words);
  let previous = -1;
  const fail = (code: number, seq: number): never => {
    Atomics.store(log, KillLog.errorAt, seq);
    Atomics.store(log, KillLog.error, code);
    process.exit(2);
  };
  const effect = (m: Mixed): void => {
    if (mixedError(m, m.seq) !== null) fail(1, m.seq);
    if (previous >= 0 && m.seq !== previous + 1) fail(2, m.seq);
    previous = m.seq;
    if (m.seq === poison) throw new Error(`channel-child: message ${poison} crashes this renderer`);
    spin(Math.random() * workMicros);
    // Who handled it first, then the count: a kill between the two leaves a count of 0.
    Atomics.compareExchange(log, KillLog.by + m.seq, 0, epoch);
    Atomics.add(log, KillLog.counts + m.seq, 1);
    Atomics.store(log, KillLog.last + epoch, m.seq + 1);
    Atomics.compareExchange(log, KillLog.first + epoch, 0, m.seq + 1);
    Atomics.add(log, KillLog.progress + epoch, 1);
  };
  const batch = (first: Mixed): void => {
    Atomics.store(log, KillLog.batchStart + epoch, first.seq + 1);
  };
  try {
    if (style === 'await') {
      for await (const m of ch) {
        batch(m);
        effect(m);
      }
    } else if (style === 'one') {
      for (;;) {
        const m = ch.recvSync(30_000);
        if (m === undefined) break;
        batch(m);
        effect(m);
      }
    } else {
      for (;;) {
        const ms = ch.drain();
        if (ms.length === 0) {
          sleep(0.2);
          continue;
        }
        // Without acks the whole batch is uncommitted until the next drain.
        batch(ms[0]!);
        for (const m of ms) {
          if (style === 'drain-ack') batch(m);
          effect(m);
          if (style === 'drain-ack') ch.ack();
        }
      }
    }
  } catch (error) {
    if (!(error instanceof ChannelClosedError)) throw error;
  }
  report({ epoch, handled: Atomics.load(log, KillLog.progress + epoch) });
}

/** Echoes pings as pongs with random delays, so both sides sometimes spin and sometimes park. */
function echo(rounds: number): void {
  const { fields } = openFields(layouts.pingpong, regionName);
  const [ping, pong] = fields;
  for (let i = 0; i < rounds; i++) {
    const m = ping.recvSync(30_000);
    if (m === undefined || m.seq !== i) {
      report({ error: `round ${i}: expected ping ${i}, got ${JSON.stringify(m)}` });
      return;
    }
    const r = Math.random();
    if (r < 0.03) sleep(0.05 + Math.random() * 0.3);
    else if (r < 0.25) spin(Math.random() * 40);
    if (!pong.send(m)) {
      report({ error: `round ${i}: pong channel full` });
      return;
    }
  }
  report({ rounds });
}

/**
 * Echoes pings with `for await` (async on both sides), with the same random delays as `echo`,
 * then reports this process's parker counters.
 */
async function echoAsync(rounds: number): Promise<void> {
  const { fields } = openFields(layouts.pingpong, regionName);
  const [ping, pong] = fields;
  let i = 0;
  for await (const m of ping) {
    if (m.seq !== i) {
      report({ error: `round ${i}: expected ping ${i}, got ${JSON.stringify(m)}` });
      return;
    }
    const r = Math.random();
    if (r < 0.03) sleep(0.05 + Math.random() * 0.3);
    else if (r < 0.25) spin(Math.random() * 40);
    if (!pong.trySend(m)) {
      report({ error: `round ${i}: pong channel full` });
      return;
    }
    if (++i === rounds) break;
  }
  const { timeouts, pending } = parkerStats();
  report({ rounds: i, timeouts, pending });
}

/** Raw words, no timeouts anywhere: a lost wake-up hangs this process (and fails the test). */
function wordPingPong(rounds: number): void {
  const { ctx, scratch } = openFields(layouts.mixed, regionName);
  const base = scratch.byteOffset;
  const ping: SharedWord = sharedWord(ctx.buffer, ctx.address, base + 8, base + 12);
  const pong: SharedWord = sharedWord(ctx.buffer, ctx.address, base + 16, base + 20);
  for (let i = 0; i < rounds; i++) {
    waitSync(ping, i, undefined, { spinMicros: i % 10 === 0 ? 0 : 30 });
    const r = Math.random();
    if (r < 0.03) sleep(0.05 + Math.random() * 0.3);
    else if (r < 0.25) spin(Math.random() * 40);
    storeAndWake(pong, i + 1);
  }
  report({ rounds });
}

/** The driving side of word-pingpong, for running both sides in children (polling backend). */
function wordPinger(rounds: number): void {
  const { ctx, scratch } = openFields(layouts.mixed, regionName);
  const base = scratch.byteOffset;
  const ping: SharedWord = sharedWord(ctx.buffer, ctx.address, base + 8, base + 12);
  const pong: SharedWord = sharedWord(ctx.buffer, ctx.address, base + 16, base + 20);
  for (let i = 0; i < rounds; i++) {
    storeAndWake(ping, i + 1);
    waitSync(pong, i, undefined, { spinMicros: i % 10 === 0 ? 0 : 30 });
    if (Atomics.load(pong.i32, pong.index) !== i + 1) {
      report({ error: `round ${i}` });
      return;
    }
  }
  report({ rounds, backend: syncBackendName() });
}

/** Waits until the parent's timer has ticked `ticks` times, then sends one message. */
function sendAfterTicks(ticks: number): void {
  const { fields, scratch } = openFields(layouts.mixed, regionName);
  while (Atomics.load(scratch, 1) < ticks) sleep(1);
  fields[0].send(mixed(42));
  report({ sent: 1 });
}

/** Parks in recvSync (the parent checks that its wake then makes the syscall). */
function park(timeoutMs: number): void {
  const { fields } = openFields(layouts.mixed, regionName);
  const m = fields[0].recvSync(timeoutMs);
  report({ seq: m?.seq ?? null });
}

/** Echoes pings as fast as it can (benchmark). */
function benchEcho(rounds: number): void {
  const { fields } = openFields(layouts.pingpong, regionName);
  const [ping, pong] = fields;
  for (let i = 0; i < rounds; i++) {
    const m = ping.recvSync(30_000);
    if (m === undefined) {
      report({ error: `round ${i}: no ping` });
      return;
    }
    pong.send(m);
  }
  report({ rounds });
}

/**
 * Echoes pings as a renderer would write it: `for await` over the channel, `trySend` back, no
 * options (benchmark).
 */
async function benchEchoAsync(rounds: number): Promise<void> {
  const { fields } = openFields(layouts.pingpong, regionName);
  const [ping, pong] = fields;
  let n = 0;
  for await (const m of ping) {
    if (!pong.trySend(m)) {
      report({ error: `round ${n}: pong channel full` });
      return;
    }
    if (++n === rounds) break;
  }
  report({ rounds: n });
}

/** Sends `count` 16-byte messages flat out (benchmark). */
function benchProduce(count: number): void {
  const { fields } = openFields(layouts.quad, regionName);
  const ch = fields[0];
  const m = { a: 1, b: 2, c: 3, d: 0 };
  let full = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    m.d = i;
    // Full: back off a little rather than hammer the consumer's cache line with reads.
    while (!ch.trySend(m)) {
      full++;
      for (let k = 0; k < 100; k++) Atomics.load(nap, 0);
    }
  }
  report({ sent: count, ms: performance.now() - t0, full });
}

/** Waits idle for `ms` with nothing sent, and reports its own CPU time. */
async function idle(kind: 'sync' | 'async', ms: number): Promise<void> {
  const { fields } = openFields(layouts.mixed, regionName);
  const ch = fields[0];
  // Load the wait module (koffi, libc) before the clock starts: start-up is not idling.
  syncBackendName();
  const before = process.cpuUsage();
  const start = performance.now();
  if (kind === 'sync') ch.recvSync(ms);
  else await ch.recv({ timeoutMs: ms }).catch(() => undefined);
  const used = process.cpuUsage(before);
  const wall = performance.now() - start;
  report({ cpuPercent: ((used.user + used.system) / 1000 / wall) * 100 });
}

/** process.send baseline: echoes every IPC message back. */
function ipcEcho(): void {
  process.on('message', (m) => {
    if (m === 'stop') process.exit(0);
    process.send?.(m);
  });
}

/** process.send baseline: sends `count` 16-byte messages one way, waiting when the pipe is busy. */
async function ipcProduce(count: number): Promise<void> {
  const m = { a: 1, b: 2, c: 3, d: 0 };
  for (let i = 0; i < count; i++) {
    m.d = i;
    if (!process.send?.(m)) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise<void>((resolve) => process.send?.('done', () => resolve()));
}

/** Unix socket baseline: echoes 4-byte messages on the socket at `path`. */
async function udsEcho(path: string): Promise<void> {
  const net = await import('node:net');
  const socket = net.createConnection(path);
  socket.setNoDelay(true);
  socket.on('data', (d) => socket.write(d));
  socket.on('close', () => process.exit(0));
}

switch (mode) {
  case 'bench-echo':
    benchEcho(numbers[0] ?? 0);
    break;
  case 'bench-echo-async':
    void benchEchoAsync(numbers[0] ?? 0);
    break;
  case 'bench-produce':
    benchProduce(numbers[0] ?? 0);
    break;
  case 'idle-sync':
  case 'idle-async':
    void idle(mode === 'idle-sync' ? 'sync' : 'async', numbers[0] ?? 0);
    break;
  case 'ipc-echo':
    ipcEcho();
    break;
  case 'ipc-produce':
    void ipcProduce(numbers[0] ?? 0);
    break;
  case 'uds-echo':
    void udsEcho(regionName);
    break;
  case 'produce':
    produce(args[0] as 'mixed' | 'small' | 'big', numbers[1] ?? 0, numbers[2] ?? 0);
    break;
  case 'consume':
    consume(args[0] as 'mixed' | 'small', numbers[1] ?? 0);
    break;
  case 'echo':
    echo(numbers[0] ?? 0);
    break;
  case 'echo-async':
    void echoAsync(numbers[0] ?? 0);
    break;
  case 'word-pingpong':
    wordPingPong(numbers[0] ?? 0);
    break;
  case 'word-pinger':
    wordPinger(numbers[0] ?? 0);
    break;
  case 'send-after-ticks':
    sendAfterTicks(numbers[0] ?? 0);
    break;
  case 'park':
    park(numbers[0] ?? 0);
    break;
  case 'handle':
    void handle(
      args[0] as 'clicks' | 'handledClicks',
      args[1] ?? '',
      numbers[2] ?? 0,
      args[3] as KillStyle,
      numbers[4] ?? -1,
      numbers[5] ?? 0,
    );
    break;
  default:
    throw new Error(`channel-child: unknown mode ${JSON.stringify(mode)}`);
}
