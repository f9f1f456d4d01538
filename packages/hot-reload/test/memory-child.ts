/**
 * Child process for the memory tests: a second, real process that maps the same region by name.
 * Run as `node --import tsx test/memory-child.ts <command> <args…>`. It talks to the parent
 * through the region itself (Atomics on Int32 slots) and a line or two on stdout/stdin.
 */

import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  createRegion,
  listStaleRegions,
  markReady,
  newRegionName,
  openRegion,
  removeStaleRegions,
  unlinkOnExit,
  unlinkRegion,
  writeHeader,
} from '../src/memory/index.js';

const [command, name, ...rest] = process.argv.slice(2);
const args = rest.map(Number);
const arg = (index: number): number => {
  const value = args[index];
  if (value === undefined || Number.isNaN(value)) throw new Error(`missing argument ${index}`);
  return value;
};

// No child may hang a test run: every wait below gives up after this long.
const DEADLINE_MS = 20_000;
function spinUntil(condition: () => boolean): void {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) {
      console.error('memory-child: timed out');
      process.exit(2);
    }
  }
}

async function nextLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

if (name === undefined) throw new Error('usage: memory-child <command> <region name> …');

switch (command) {
  case 'write': {
    // write <name> <slot> <value>: store one word and leave.
    const region = openRegion(name);
    Atomics.store(new Int32Array(region.buffer), arg(0), arg(1));
    region.close();
    console.log('ok');
    break;
  }
  case 'read': {
    // read <name> <slot>: print one word.
    const region = openRegion(name);
    console.log(Atomics.load(new Int32Array(region.buffer), arg(0)));
    region.close();
    break;
  }
  case 'add': {
    // add <name> <startedSlot> <goSlot> <counterSlot> <count>: say we are here, wait for the
    // parent's go so both processes add at the same time, then add.
    const region = openRegion(name);
    const i32 = new Int32Array(region.buffer);
    Atomics.store(i32, arg(0), 1);
    spinUntil(() => Atomics.load(i32, arg(1)) === 1);
    const counter = arg(2);
    for (let i = arg(3); i > 0; i--) Atomics.add(i32, counter, 1);
    region.close();
    console.log('ok');
    break;
  }
  case 'pong': {
    // pong <name> <pingSlot> <pongSlot> <rounds>: answer each ping k with pong k.
    const region = openRegion(name);
    const i32 = new Int32Array(region.buffer);
    for (let round = 1; round <= arg(2); round++) {
      spinUntil(() => Atomics.load(i32, arg(0)) === round);
      Atomics.store(i32, arg(1), round);
    }
    region.close();
    console.log('ok');
    break;
  }
  case 'try-create': {
    // try-create <name> <size> <reserve 0|1>: report how createRegion went, leave nothing.
    try {
      const region = createRegion(name, arg(0), { reserve: arg(1) === 1 });
      console.log(`ok ${region.size}`);
      region.unlink();
      region.close();
    } catch (error) {
      const { name: kind, message } = error as Error;
      console.log(`${kind}|${(error as { syscall?: string }).syscall}|${message}`);
    }
    break;
  }
  case 'stale-scan': {
    // stale-scan <dead-name> <live-name> <other-name>: create the three, list and remove stale
    // regions, print what was listed and removed and what is left (as JSON).
    const [live, other] = rest as [string, string];
    for (const regionName of [name, live, other]) createRegion(regionName, 4096).close();
    const listed = listStaleRegions();
    const { removed } = removeStaleRegions();
    const left = readdirSync('/dev/shm').sort();
    console.log(JSON.stringify({ listed, removed, left }));
    for (const regionName of [name, live, other]) unlinkRegion(regionName);
    break;
  }
  case 'create': {
    // create <name> <size> <slot> <value> <answerSlot>: create, write, report; after the
    // parent's line print what it wrote at answerSlot, then unlink and leave.
    const region = createRegion(name, arg(0));
    const i32 = new Int32Array(region.buffer);
    Atomics.store(i32, arg(1), arg(2));
    console.log('ready');
    await nextLine();
    console.log(Atomics.load(i32, arg(3)));
    region.unlink();
    region.close();
    break;
  }
  case 'owner': {
    // owner <name|auto> <mode>: create a region with a header, register unlinkOnExit, then end as
    // `mode` says once the parent sends a line (or signals us).
    // With the name 'auto' the region carries this child's pid, as a real owner's does.
    const mode = rest[0];
    if (mode === 'sigint-once-first') {
      // The app's own handler, registered with `once` before the library's: it finishes its
      // cleanup asynchronously and exits 4. The library must not take that over.
      process.once('SIGINT', () => {
        setTimeout(() => process.exit(4), 50);
      });
    }
    const region = createRegion(name === 'auto' ? newRegionName() : name, 4096);
    writeHeader(region, {
      fingerprint: new Uint8Array(16),
      descriptor: 'x',
      ownerPid: process.pid,
    });
    markReady(region);
    const dispose = unlinkOnExit(region);
    if (mode === 'sigint-other') {
      // Another part of the app handles SIGINT its own way: we must not take that over.
      process.on('SIGINT', () => process.exit(3));
    }
    if (mode === 'sigterm-other-keeps-running') {
      process.on('SIGTERM', () => console.log('still here'));
    }
    // Keep the event loop alive until we are told what to do.
    const keepAlive = setInterval(() => {}, 1_000);
    console.log(`ready ${region.name}`);
    const line = await nextLine();
    if (mode === 'sigterm-other-keeps-running') {
      // Report whether the region survived the signal, then end normally.
      try {
        openRegion(region.name).close();
        console.log('exists');
      } catch {
        console.log('gone');
      }
    }
    clearInterval(keepAlive);
    if (mode === 'dispose') dispose();
    if (mode === 'throw') throw new Error(`memory-child: thrown on purpose (${line})`);
    if (mode === 'exit-code') process.exit(7);
    break;
  }
  default:
    throw new Error(`memory-child: unknown command ${command}`);
}
