/**
 * Channel benchmark, between two real processes over a real region, each figure beside its
 * baseline measured in the same run on the same messages:
 *   - round trip p50/p99 as an app writes it (trySend, then `await recv()` on one side, `for await`
 *     on the other: both on the event loop) vs process.send and a Unix socket, interleaved;
 *   - round trip p50/p99 of the synchronous path (recvSync spinning, then parking, on both sides),
 *     on its own ids: it blocks the thread, which no event-loop baseline does;
 *   - one-way throughput of 16-byte messages vs process.send;
 *   - CPU of a receiver parked for 5 s with nothing to receive (sync and async; the worse counts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createFields } from '../test/channel-context.js';
import { layouts } from '../test/channel-schemas.js';

const CHILD = fileURLToPath(new URL('../test/channel-child.ts', import.meta.url));

function child(
  args: (string | number)[],
  ipc = false,
): { proc: ChildProcess; result: Promise<Record<string, number>> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args.map(String)], {
    stdio: ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    ...(ipc ? { serialization: 'advanced' as const } : {}),
  });
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '{}';
      if (code !== 0) reject(new Error(`child ${args[0]} exited with ${code}`));
      else resolve(JSON.parse(line || '{}') as Record<string, number>);
    });
  });
  return { proc, result };
}

const micros = (from: bigint, to: bigint): number => Number(to - from) / 1000;

/** A ping-pong partner kept alive across measurement blocks. */
interface RoundTrips {
  /** Times `n` round trips (after `warmup` untimed ones), in µs each. */
  run(n: number, warmup?: number): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * The synchronous path: `recvSync` on both sides (spin, then park the thread). For a dedicated
 * renderer process or a worker that may block; the event loop does not run while it waits.
 */
function channelSyncSpin(total: number): RoundTrips {
  const owner = createFields(layouts.pingpong);
  const [ping, pong] = owner.fields;
  const echo = child(['bench-echo', owner.ctx.regionName, total]);
  const m = { seq: 0 };
  return {
    async run(n, warmup = 0) {
      const samples: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        const t0 = process.hrtime.bigint();
        ping.send(m);
        if (pong.recvSync(30_000) === undefined) throw new Error(`no pong ${m.seq}`);
        if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
        m.seq++;
      }
      return samples;
    },
    async close() {
      await echo.result;
      owner.ctx.region.unlink();
    },
  };
}

/**
 * The event-loop path, as an app writes it: the owner awaits `pong.recv()` after each
 * `ping.trySend()`, the renderer echoes with `for await`; default options on both sides.
 */
function channelAsync(total: number): RoundTrips {
  const owner = createFields(layouts.pingpong);
  const [ping, pong] = owner.fields;
  const echo = child(['bench-echo-async', owner.ctx.regionName, total]);
  const m = { seq: 0 };
  return {
    async run(n, warmup = 0) {
      const samples: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        const t0 = process.hrtime.bigint();
        ping.trySend(m);
        const back = await pong.recv();
        if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
        if (back.seq !== m.seq) throw new Error(`expected pong ${m.seq}, got ${back.seq}`);
        m.seq++;
      }
      return samples;
    },
    async close() {
      await echo.result;
      owner.ctx.region.unlink();
    },
  };
}

/** `process.send` to a child that echoes every message with `process.send`. */
function processSend(): RoundTrips {
  const echo = child(['ipc-echo', '-'], true);
  const m = { seq: 0 };
  return {
    async run(n, warmup = 0) {
      const samples: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        const t0 = process.hrtime.bigint();
        await new Promise<void>((resolve) => {
          echo.proc.once('message', () => resolve());
          echo.proc.send(m);
        });
        if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
        m.seq++;
      }
      return samples;
    },
    async close() {
      echo.proc.send('stop');
      await echo.result;
    },
  };
}

/** A Unix socket to a child that writes back what it reads. */
async function unixSocket(): Promise<RoundTrips> {
  const path = join(tmpdir(), `hotshm-bench-${process.pid}.sock`);
  rmSync(path, { force: true });
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const connected = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const echo = child(['uds-echo', path]);
  const socket = await connected;
  socket.setNoDelay(true);
  const buf = Buffer.alloc(4);
  let seq = 0;
  return {
    async run(n, warmup = 0) {
      const samples: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        buf.writeInt32LE(seq++);
        const t0 = process.hrtime.bigint();
        await new Promise<void>((resolve) => {
          socket.once('data', () => resolve());
          socket.write(buf);
        });
        if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
      }
      return samples;
    },
    async close() {
      socket.destroy();
      await echo.result.catch(() => undefined);
      server.close();
      rmSync(path, { force: true });
    },
  };
}

/**
 * Round trips of every contender, interleaved in blocks so that a noisy minute on a shared
 * machine lands on all of them alike rather than on whichever ran then.
 */
async function roundTrips(
  contenders: Record<string, RoundTrips>,
  rounds: number,
  blocks: number,
  warmup: number,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = {};
  for (const [name, c] of Object.entries(contenders)) samples[name] = await c.run(0, warmup);
  for (let b = 0; b < blocks; b++) {
    for (const [name, c] of Object.entries(contenders)) {
      samples[name]?.push(...(await c.run(rounds / blocks)));
    }
  }
  for (const c of Object.values(contenders)) await c.close();
  return samples;
}

async function channelThroughput(count: number): Promise<number> {
  const owner = createFields(layouts.quad);
  const ch = owner.fields[0];
  const producer = child(['bench-produce', owner.ctx.regionName, count]);
  // Start the clock at the first message, so the child's start-up is not counted.
  let first = ch.recvSync(30_000);
  if (first === undefined) throw new Error('no first message');
  const t0 = performance.now();
  let received = 1;
  let expected = 1;
  // As an owner's frame loop would: take everything waiting, and sleep only when nothing is.
  while (received < count) {
    const batch = ch.drain();
    if (batch.length === 0) {
      const m = ch.recvSync(30_000);
      if (m === undefined) throw new Error(`stalled at ${received}`);
      batch.push(m);
    }
    for (const m of batch) {
      if (m.d !== expected++) throw new Error(`out of order at ${received}`);
      received++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  await producer.result;
  owner.ctx.region.unlink();
  first = undefined;
  return (count - 1) / seconds;
}

async function processSendThroughput(count: number): Promise<number> {
  const producer = child(['ipc-produce', '-', count], true);
  let received = 0;
  let t0 = 0;
  await new Promise<void>((resolve) => {
    producer.proc.on('message', (m) => {
      if (m === 'done') return resolve();
      if (received === 0) t0 = performance.now();
      received++;
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  producer.proc.kill();
  await producer.result.catch(() => undefined);
  return (received - 1) / seconds;
}

async function parkedCpu(ms: number): Promise<{ sync: number; async: number }> {
  const owner = createFields(layouts.mixed);
  const [sync, async] = await Promise.all([
    child(['idle-sync', owner.ctx.regionName, ms]).result,
    child(['idle-async', owner.ctx.regionName, ms]).result,
  ]);
  owner.ctx.region.unlink();
  return { sync: sync.cpuPercent ?? Number.NaN, async: async.cpuPercent ?? Number.NaN };
}

console.log('channel benchmark (two processes, real region)');
const ROUNDS = 20_000;
const BLOCKS = 4;
const WARMUP = 2_000;
const rtt = await roundTrips(
  {
    async: channelAsync(ROUNDS + WARMUP),
    ipc: processSend(),
    uds: await unixSocket(),
  },
  ROUNDS,
  BLOCKS,
  WARMUP,
);
const spin = await roundTrips({ spin: channelSyncSpin(100_000 + 10_000) }, 100_000, 1, 10_000);
const throughput = await channelThroughput(2_000_000);
const ipcThroughput = await processSendThroughput(200_000);
const idle = await parkedCpu(5_000);
const p = (name: string, q: number, from = rtt): number => percentile(from[name] ?? [], q);
console.log(
  `  baselines: process.send rtt p50 ${p('ipc', 50).toFixed(1)} µs p99 ${p('ipc', 99).toFixed(1)} µs; unix socket rtt p50 ${p('uds', 50).toFixed(1)} µs p99 ${p('uds', 99).toFixed(1)} µs; process.send ${Math.round(ipcThroughput).toLocaleString('en-US')} msgs/s; parked cpu sync ${idle.sync.toFixed(3)}% async ${idle.async.toFixed(3)}%`,
);
/** How many times faster than the baseline (≥ 1: ours is faster). */
const faster = (baseline: number, ours: number, what: string) => ({
  value: baseline / ours,
  unit: '×',
  baseline: what,
  ratio: baseline / ours,
});
record({
  'channel.async_rtt_p50_us': { value: p('async', 50), unit: 'µs' },
  'channel.async_rtt_p99_us': { value: p('async', 99), unit: 'µs' },
  'channel.async_rtt_p50_vs_process_send': faster(
    p('ipc', 50),
    p('async', 50),
    'process.send round trip p50',
  ),
  'channel.async_rtt_p99_vs_process_send': faster(
    p('ipc', 99),
    p('async', 99),
    'process.send round trip p99',
  ),
  'channel.async_rtt_p50_vs_uds': faster(
    p('uds', 50),
    p('async', 50),
    'Unix domain socket round trip p50',
  ),
  'channel.async_rtt_p99_vs_uds': faster(
    p('uds', 99),
    p('async', 99),
    'Unix domain socket round trip p99',
  ),
  'channel.sync_spin_rtt_p50_us': { value: p('spin', 50, spin), unit: 'µs' },
  'channel.sync_spin_rtt_p99_us': { value: p('spin', 99, spin), unit: 'µs' },
  'channel.throughput_msgs_per_s': { value: throughput, unit: 'msgs/s' },
  'channel.throughput_vs_process_send': faster(
    1 / ipcThroughput,
    1 / throughput,
    'process.send one-way msgs/s',
  ),
  'channel.parked_cpu_percent': { value: Math.max(idle.sync, idle.async), unit: '% of a core' },
});
