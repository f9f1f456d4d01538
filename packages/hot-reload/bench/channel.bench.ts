/**
 * Channel benchmark, between two real processes over a real region, each figure beside its
 * baseline measured in the same run on the same messages:
 *   - round trip p50/p99 (spin-then-park recvSync on both sides) vs process.send and a Unix socket;
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

async function channelRoundTrip(rounds: number, warmup: number): Promise<number[]> {
  const owner = createFields(layouts.pingpong);
  const [ping, pong] = owner.fields;
  const echo = child(['bench-echo', owner.ctx.regionName, rounds + warmup]);
  const samples: number[] = [];
  const m = { seq: 0 };
  for (let i = 0; i < rounds + warmup; i++) {
    m.seq = i;
    const t0 = process.hrtime.bigint();
    ping.send(m);
    if (pong.recvSync(30_000) === undefined) throw new Error(`no pong ${i}`);
    if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
  }
  await echo.result;
  owner.ctx.region.unlink();
  return samples;
}

async function processSendRoundTrip(rounds: number, warmup: number): Promise<number[]> {
  const echo = child(['ipc-echo', '-'], true);
  const samples: number[] = [];
  const m = { seq: 0 };
  for (let i = 0; i < rounds + warmup; i++) {
    m.seq = i;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      echo.proc.once('message', () => resolve());
      echo.proc.send(m);
    });
    if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
  }
  echo.proc.send('stop');
  await echo.result;
  return samples;
}

async function udsRoundTrip(rounds: number, warmup: number): Promise<number[]> {
  const path = join(tmpdir(), `hotshm-bench-${process.pid}.sock`);
  rmSync(path, { force: true });
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const connected = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const echo = child(['uds-echo', path]);
  const socket = await connected;
  socket.setNoDelay(true);
  const samples: number[] = [];
  const buf = Buffer.alloc(4);
  for (let i = 0; i < rounds + warmup; i++) {
    buf.writeInt32LE(i);
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write(buf);
    });
    if (i >= warmup) samples.push(micros(t0, process.hrtime.bigint()));
  }
  socket.destroy();
  await echo.result.catch(() => undefined);
  server.close();
  rmSync(path, { force: true });
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
const ours = await channelRoundTrip(100_000, 10_000);
const ipc = await processSendRoundTrip(10_000, 1_000);
const uds = await udsRoundTrip(10_000, 1_000);
const oursP50 = percentile(ours, 50);
const throughput = await channelThroughput(2_000_000);
const ipcThroughput = await processSendThroughput(200_000);
const idle = await parkedCpu(5_000);
console.log(
  `  baselines: process.send rtt p50 ${percentile(ipc, 50).toFixed(1)} µs p99 ${percentile(ipc, 99).toFixed(1)} µs; unix socket rtt p50 ${percentile(uds, 50).toFixed(1)} µs p99 ${percentile(uds, 99).toFixed(1)} µs; process.send ${Math.round(ipcThroughput).toLocaleString('en-US')} msgs/s; parked cpu sync ${idle.sync.toFixed(3)}% async ${idle.async.toFixed(3)}%`,
);
record({
  'channel.rtt_p50_us': { value: oursP50, unit: 'µs' },
  'channel.rtt_p99_us': { value: percentile(ours, 99), unit: 'µs' },
  'channel.rtt_vs_process_send': {
    value: percentile(ipc, 50) / oursP50,
    unit: '×',
    baseline: 'process.send round trip p50',
    ratio: percentile(ipc, 50) / oursP50,
  },
  'channel.rtt_vs_uds': {
    value: percentile(uds, 50) / oursP50,
    unit: '×',
    baseline: 'Unix domain socket round trip p50',
    ratio: percentile(uds, 50) / oursP50,
  },
  'channel.throughput_msgs_per_s': { value: throughput, unit: 'msgs/s' },
  'channel.throughput_vs_process_send': {
    value: throughput / ipcThroughput,
    unit: '×',
    baseline: 'process.send one-way msgs/s',
    ratio: throughput / ipcThroughput,
  },
  'channel.parked_cpu_percent': { value: Math.max(idle.sync, idle.async), unit: '% of a core' },
});
