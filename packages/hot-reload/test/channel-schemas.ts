/**
 * Message schemas and message generators shared by the channel tests, their child processes and
 * the channel benchmark: both sides build the same layout from this one file.
 */
import { channel } from '../src/channel/index.js';
import { fixedString, i32, struct, u32 } from '../src/schema/index.js';

/** Mixed sizes: the text runs from 0 to 200 bytes. */
export const Mixed = struct({ seq: u32, sum: u32, text: fixedString(200) });
export type Mixed = { seq: number; sum: number; text: string };

export function mixed(seq: number): Mixed {
  const length = (seq * 7919) % 201;
  const char = String.fromCharCode(97 + (seq % 26));
  return { seq, sum: (seq * 31 + length) >>> 0, text: char.repeat(length) };
}

/** Null when `m` is exactly message `seq`, otherwise what differs. */
export function mixedError(m: Mixed, seq: number): string | null {
  const want = mixed(seq);
  if (m.seq !== want.seq) return `expected seq ${seq}, got ${m.seq}`;
  if (m.sum !== want.sum || m.text !== want.text) return `message ${seq} is damaged`;
  return null;
}

/** Big messages, so that a SIGKILL often lands in the middle of encoding one. */
export const Big = struct({ seq: u32, text: fixedString(8192), tail: u32 });
export type Big = { seq: number; text: string; tail: number };

export function big(seq: number): Big {
  const char = String.fromCharCode(65 + (seq % 26));
  return { seq, text: char.repeat(8192), tail: seq };
}

export function bigError(m: Big, seq: number): string | null {
  if (m.seq !== seq) return `expected seq ${seq}, got ${m.seq}`;
  if (m.tail !== seq || m.text !== big(seq).text) return `message ${seq} is torn`;
  return null;
}

export const Ping = struct({ seq: i32 });

/** 16 bytes: the throughput benchmark's message. */
export const Quad = struct({ a: u32, b: u32, c: u32, d: u32 });

/**
 * The kill tests' record of what consumers did with each message (channel-kills.test.ts), an
 * Int32Array over a region of its own. Per epoch (< EPOCHS): messages handled, the last and the
 * first seq handled (+ 1; 0 for none), and where its uncommitted messages start (the batch it is
 * handling). Per message (< KILL_MESSAGES): how many times it was handled, and by which epoch
 * first. `error` is set (and `errorAt` says which seq) when a consumer met a message out of
 * order or damaged.
 */
export const KILL_MESSAGES = 200_000;
const EPOCHS = 256;
export const KillLog = {
  error: 0,
  errorAt: 1,
  progress: 16,
  last: 16 + EPOCHS,
  first: 16 + 2 * EPOCHS,
  batchStart: 16 + 3 * EPOCHS,
  counts: 16 + 4 * EPOCHS,
  by: 16 + 4 * EPOCHS + KILL_MESSAGES,
  words: 16 + 4 * EPOCHS + 2 * KILL_MESSAGES,
} as const;
/** What the kill tests' consumers know how to do: how they take messages. */
export type KillStyle = 'one' | 'await' | 'drain' | 'drain-ack';

/** Every channel the tests use, by name: a child binds the one its test names. */
export const layouts = {
  mixed: [channel(Mixed, { capacity: 1024 })],
  small: [channel(Mixed, { capacity: 64 })],
  big: [channel(Big, { capacity: 8 })],
  pingpong: [channel(Ping, { capacity: 4 }), channel(Ping, { capacity: 4 })],
  quad: [channel(Quad, { capacity: 4096 })],
  /** A UI's input queue, in each delivery mode. */
  clicks: [channel(Mixed, { capacity: 64 })],
  handledClicks: [channel(Mixed, { capacity: 64, delivery: 'handled' })],
} as const;
export type LayoutName = keyof typeof layouts;
