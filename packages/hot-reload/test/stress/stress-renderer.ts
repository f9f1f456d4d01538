/**
 * The renderer the stress harness kills. Each turn it takes every queued message of both streams
 * (acknowledging each one before taking the next, so a killed renderer holds at most one
 * unacknowledged message of each), draws a frame in which every pixel carries the same value (half of it, a pause, the
 * other half, so a kill often lands mid-frame), presents it, and looks for an injected fault.
 */
import { Fault, Mode, StressState, TAKEN_SLOTS } from './stress-state.js';

const pause = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runRenderer(revision: number): Promise<never> {
  const s = StressState.reloadable();
  s.revision.set(revision);
  // The ring of this epoch's parity: the renderer of epoch E-1 may still be draining beside us.
  const acks = (s.epoch & 1) === 0 ? s.acks0 : s.acks1;
  const hoard: unknown[] = [];
  for (let frame = 1; ; frame++) {
    for (let m = s.messages.tryRecv(); m !== undefined; m = s.messages.tryRecv()) {
      s.taken.at(s.epoch % TAKEN_SLOTS).set(m.seq);
      while (!acks.send({ seq: m.seq, epoch: s.epoch, mode: Mode.Taken })) await sleep(1);
    }
    // Handled delivery: the acknowledgement is this message's handling; the next tryRecv commits
    // it. Killed in between, the message goes to the next renderer (acknowledged again there).
    for (let m = s.handled.tryRecv(); m !== undefined; m = s.handled.tryRecv()) {
      while (!acks.send({ seq: m.seq, epoch: s.epoch, mode: Mode.Handled })) await sleep(1);
    }
    const fault = s.faults.tryRecv();
    if (fault === Fault.Throw) {
      setTimeout(() => {
        throw new Error('stress: injected uncaught exception');
      });
    } else if (fault === Fault.Loop) {
      for (;;) {
        // Never yields: the process keeps its CPU and answers nothing but signals.
      }
    } else if (fault === Fault.Allocate) {
      // Large, live arrays: the heap limit is reached in a few steps. (Small ones make V8 spend
      // tens of seconds in last-resort collections first on a loaded machine.)
      for (;;) hoard.push(new Array(1 << 20).fill(hoard.length));
    }
    // Opaque alpha, the epoch's low byte and the frame's low 16 bits: never 0, never repeated
    // by the previous frame, so a mix of two frames is visible in any pair of pixels.
    const value = (0xff000000 | ((s.epoch & 0xff) << 16) | (frame & 0xffff)) >>> 0;
    const px = s.screen.back();
    const half = px.length >>> 1;
    px.fill(value, 0, half);
    await pause();
    px.fill(value, half);
    s.screen.present();
    await sleep(1);
  }
}

export async function main(): Promise<void> {
  await runRenderer(0);
}
