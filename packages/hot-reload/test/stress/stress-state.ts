/**
 * The state the stress harness runs on: a small framebuffer, a numbered message stream from the
 * owner, acknowledgements back (one ring per epoch parity, so that an old renderer still running
 * beside its successor never makes a ring multi-producer), and a fault channel through which the
 * owner tells the live renderer to crash in a given way.
 *
 * It imports the library by its package name so that a renderer bundle shares the standby
 * runner's copy (see supervisor/bundler.ts), exactly as an app's renderer does.
 */
import { array, channel, defineState, framebuffer, struct, u16, u32 } from '@hotshm/hot-reload';

/** What the owner asks the live renderer to do to itself. */
export const Fault = {
  /** Throw from a timer callback: an uncaught exception. */
  Throw: 1,
  /** Spin forever without yielding (the owner must stay responsive and replace it). */
  Loop: 2,
  /** Allocate until V8's heap limit kills the process. */
  Allocate: 3,
} as const;

/** The delivery of the stream an acknowledgement is for. */
export const Mode = { Taken: 0, Handled: 1 } as const;

export const StressArgs = struct({ width: u16, height: u16 });

/** Epochs remembered in `taken`: more renderers than any stress session starts. */
export const TAKEN_SLOTS = 1024;

export const StressState = defineState({
  name: 'hotshm-stress',
  reloadable: new URL('./stress-renderer.ts', import.meta.url),
  args: StressArgs,
  fields: (args) => stressFields(args),
});

function stressFields({ width, height }: { width: number; height: number }) {
  return {
    screen: framebuffer(width, height),
    messages: channel(struct({ seq: u32 }), { capacity: 256 }),
    /**
     * The same stream with `delivery: 'handled'`: a message is committed when the renderer asks
     * for the next one, so one a killed renderer was handling goes to the next renderer.
     */
    handled: channel(struct({ seq: u32 }), { capacity: 256, delivery: 'handled' }),
    /** `mode`: which stream the message came from (Mode). */
    acks0: channel(struct({ seq: u32, epoch: u32, mode: u32 }), { capacity: 1024 }),
    acks1: channel(struct({ seq: u32, epoch: u32, mode: u32 }), { capacity: 1024 }),
    faults: channel(u32, { capacity: 4 }),
    /** The revision of the entry the live renderer was built from (see fixtures.ts). */
    revision: u32,
    /**
     * The last sequence number taken by the renderer of each epoch (slot epoch % TAKEN_SLOTS),
     * stored before its acknowledgement is sent: a renderer killed, or stopped by the supervisor,
     * between taking a message and acknowledging it takes the acknowledgement with it (as does one
     * killed before it became the only producer on its rings, see ProducerGate), and this says
     * which messages it had taken.
     */
    taken: array(u32, TAKEN_SLOTS),
  };
}
