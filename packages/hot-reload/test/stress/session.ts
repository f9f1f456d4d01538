/**
 * An owner under stress: it creates the stress state with a supervised renderer, sends numbered
 * messages without pause, drains the acknowledgements, and samples the front frame all the time.
 * At the end it accounts for every message: acknowledged once, taken by a renderer that was
 * killed (or stopped by the supervisor after it was replaced) before it could acknowledge
 * (allowed: right where that renderer stopped), or lost.
 */
import type { HostOptions, RegionRepair } from '@hotshm/hot-reload';
import { STRESS_SUPERVISOR, sleep, stderrSink, until } from './fixtures.js';
import { Mode, StressState, TAKEN_SLOTS } from './stress-state.js';

type State = Awaited<ReturnType<typeof StressState.owner>>;

/** The default stream (`delivery: 'taken'`). */
export interface Accounting {
  readonly sent: number;
  readonly acknowledged: number;
  readonly duplicated: number;
  readonly takenByKilled: number;
  readonly lost: number;
  readonly outOfOrder: number;
  /** The same stream with `delivery: 'handled'`, sent beside it the whole time. */
  readonly handled: HandledAccounting;
}

/**
 * The `delivery: 'handled'` stream: nothing may be taken away by a renderer that dies. A message
 * acknowledged again after the renderer that first acknowledged it was killed is `redelivered`
 * (it was handled and not yet committed: at least once, as promised); one dropped as poison
 * (two renderers died holding it, reported as a warning) is `poisoned`; one missing otherwise is
 * `lost`.
 */
export interface HandledAccounting {
  readonly sent: number;
  readonly acknowledged: number;
  readonly redelivered: number;
  readonly poisoned: number;
  readonly duplicated: number;
  readonly lost: number;
  readonly outOfOrder: number;
}

export interface FrameStats {
  readonly samples: number;
  readonly torn: number;
  /** Samples with no frame after the first frame was shown: the window went blank. */
  readonly blank: number;
}

export class StressSession {
  readonly state: State;
  readonly stderr = stderrSink();
  /** Epochs of renderers that died without being asked to (SIGKILL or an injected fault). */
  readonly killedEpochs = new Set<number>();
  /** The last sequence each killed renderer had taken (its acknowledgements may have died with it). */
  private readonly killedTaken = new Map<number, number>();
  /** Epochs of renderers replaced by a reload: the supervisor stops them (SIGTERM, then SIGKILL). */
  private readonly replacedEpochs = new Set<number>();
  readonly crashes: {
    pid: number;
    epoch: number;
    code: number | null;
    signal: string | null;
    phase: 'start' | 'running';
    /** A failed start's stage (RendererStartError), e.g. 'timeout'. */
    stage: string | undefined;
  }[] = [];
  readonly buildErrors: string[] = [];
  readonly repairs: RegionRepair[] = [];
  readonly warnings: string[] = [];
  /** Sequence numbers of the handled stream dropped as poison (reported by the host). */
  private readonly poisoned = new Set<number>();
  readonly reloads: { epoch: number; pid: number; reason: string }[] = [];
  private nextSeq = 1;
  private nextHandled = 1;
  private sending = true;
  /** Sequence number → the epochs that acknowledged it, per stream. */
  private readonly acks = new Map<number, number[]>();
  private readonly handledAcks = new Map<number, number[]>();
  private samples = 0;
  private torn = 0;
  private blank = 0;
  private seenFrame = false;
  private running = true;
  private timers: NodeJS.Timeout[] = [];

  private constructor(state: State) {
    this.state = state;
    const sup = state.host;
    sup.on('crash', (e) => {
      this.crashes.push({
        pid: e.pid,
        epoch: e.epoch,
        code: e.code,
        signal: e.signal,
        phase: e.phase,
        stage: 'stage' in e.error ? String(e.error.stage) : undefined,
      });
      if (e.epoch > 0) {
        this.killedEpochs.add(e.epoch);
        // The renderer is dead: what it had taken is final.
        this.killedTaken.set(e.epoch, state.taken.at(e.epoch % TAKEN_SLOTS).get());
      }
    });
    sup.on('warning', (e) => {
      this.warnings.push(e.message);
      // "channel handled: message 12 {"seq":13} was being handled by two renderers that crashed"
      const poison = /channel handled: message \d+ \{"seq":(\d+)\}/.exec(e.message);
      if (poison) this.poisoned.add(Number(poison[1]));
    });
    sup.on('build-error', (e) => this.buildErrors.push(e.messages.join('\n')));
    sup.on('repair', (e) => this.repairs.push(...e.repairs));
    sup.on('reload', (e) => {
      this.reloads.push({ epoch: e.epoch, pid: e.pid, reason: e.reason });
      for (const r of this.reloads) if (r.epoch < e.epoch) this.replacedEpochs.add(r.epoch);
    });
    this.loop();
  }

  /**
   * `log`: print the supervisor's report to stderr. Events emitted while `owner()` starts (a
   * watcher falling back to polling, say) reach only that report: listeners can be attached
   * only once `owner()` has resolved.
   */
  static async start(
    entry: string,
    size = { width: 96, height: 64 },
    log = false,
    host: HostOptions = {},
  ): Promise<StressSession> {
    const sink = stderrSink();
    const state = await StressState.owner(size, {
      hot: true,
      entry,
      log,
      host: { ...STRESS_SUPERVISOR, stderr: sink, ...host },
    });
    return new StressSession(state);
  }

  private loop(): void {
    // Sender: a few messages every millisecond, as many as the ring takes.
    const send = (): void => {
      if (!this.running) return;
      if (this.sending) {
        for (let i = 0; i < 8; i++) {
          if (!this.state.messages.send({ seq: this.nextSeq })) break;
          this.nextSeq++;
        }
        for (let i = 0; i < 8; i++) {
          if (!this.state.handled.send({ seq: this.nextHandled })) break;
          this.nextHandled++;
        }
      }
      this.timers[0] = setTimeout(send, 1);
    };
    // Sampler: drain acknowledgements, check the frame on screen.
    const sample = (): void => {
      if (!this.running) return;
      this.drainAcks();
      this.sampleFrame();
      this.timers[1] = setTimeout(sample, 1);
    };
    send();
    sample();
  }

  private drainAcks(): void {
    for (const ring of [this.state.acks0, this.state.acks1]) {
      for (const a of ring.drain()) {
        const acks = a.mode === Mode.Handled ? this.handledAcks : this.acks;
        const list = acks.get(a.seq) ?? [];
        list.push(a.epoch);
        acks.set(a.seq, list);
      }
    }
  }

  sampleFrame(): void {
    const fb = this.state.screen;
    const front = fb.acquireFront();
    if (front === null) {
      if (this.seenFrame) this.blank++;
      return;
    }
    this.seenFrame = true;
    try {
      const px = front.pixels;
      const first = px[0]!;
      let uniform = first >>> 24 === 0xff;
      for (let i = 1; uniform && i < px.length; i++) uniform = px[i] === first;
      this.samples++;
      if (!uniform) this.torn++;
    } finally {
      fb.releaseFront();
    }
  }

  get rendererPid(): number | undefined {
    return this.state.host.rendererPid;
  }

  get standbyPid(): number | undefined {
    const host = this.state.host;
    return host.mode === 'process' ? host.standbyPid : undefined;
  }

  frameCount(): number {
    return this.state.screen.frameCount();
  }

  /**
   * Resolves once a live renderer other than `not` has presented a frame after `afterFrames`
   * and answers messages. Undefined on timeout.
   */
  async healthy(
    timeoutMs: number,
    not?: number,
    afterFrames?: number,
  ): Promise<number | undefined> {
    const base = afterFrames ?? this.frameCount();
    return until(() => {
      const pid = this.rendererPid;
      return pid !== undefined && pid !== not && this.frameCount() > base ? pid : undefined;
    }, timeoutMs);
  }

  /** Messages acknowledged so far (each sequence number once). */
  acknowledged(): number {
    this.drainAcks();
    return this.acks.size;
  }

  /**
   * Stops sending and waits until every message sent so far is acknowledged or excused (taken by
   * a killed renderer): the rings are empty, so what is done to them next loses nothing real.
   * True when that happened within `timeoutMs`.
   */
  async pause(timeoutMs: number): Promise<boolean> {
    this.sending = false;
    const sent = this.nextSeq - 1;
    const handled = this.nextHandled - 1;
    const quiet = await until(
      () => {
        this.drainAcks();
        return this.quiet(sent, handled);
      },
      timeoutMs,
      5,
    );
    return quiet === true;
  }

  resume(): void {
    this.sending = true;
  }

  frames(): FrameStats {
    return { samples: this.samples, torn: this.torn, blank: this.blank };
  }

  /** Stops sending, waits until every message is taken, and accounts for each. */
  async settle(timeoutMs: number): Promise<Accounting> {
    this.sending = false;
    const sent = this.nextSeq - 1;
    const handled = this.nextHandled - 1;
    await until(
      () => {
        this.drainAcks();
        return this.quiet(sent, handled);
      },
      timeoutMs,
      10,
    );
    await sleep(50);
    this.drainAcks();
    return { ...this.accountFor(sent, true), handled: this.accountForHandled(handled, true) };
  }

  /** Both streams are empty and every message sent is accounted for. */
  private quiet(sent: number, handled: number): boolean {
    return (
      this.state.messages.length === 0 &&
      this.state.handled.length === 0 &&
      this.accountFor(sent).lost === 0 &&
      this.accountForHandled(handled).lost === 0
    );
  }

  /** Renderers gone abruptly: killed, or stopped after they were replaced. */
  private goneEpochs(): number[] {
    return [...new Set([...this.killedEpochs, ...this.replacedEpochs])].sort((a, b) => a - b);
  }

  private accountForHandled(sent: number, final = false): HandledAccounting {
    let acknowledged = 0;
    let redelivered = 0;
    let duplicated = 0;
    let poisoned = 0;
    let lost = 0;
    let outOfOrder = 0;
    let prevEpoch = 0;
    const gone = new Set(this.goneEpochs());
    for (let seq = 1; seq <= sent; seq++) {
      const epochs = this.handledAcks.get(seq);
      if (epochs === undefined) {
        if (this.poisoned.has(seq)) poisoned++;
        else {
          lost++;
          if (final && process.env.HOTSHM_STRESS_VERBOSE === '1')
            process.stderr.write(`[stress] handled message ${seq} lost\n`);
        }
        continue;
      }
      acknowledged++;
      // Every acknowledgement but the last came from a renderer that died before committing.
      if (epochs.length > 1) {
        if (epochs.slice(0, -1).every((e) => gone.has(e))) redelivered++;
        else duplicated++;
      }
      if (epochs[0]! < prevEpoch) outOfOrder++;
      prevEpoch = epochs[0]!;
    }
    return { sent, acknowledged, redelivered, poisoned, duplicated, lost, outOfOrder };
  }

  private accountFor(sent: number, final = false): Omit<Accounting, 'handled'> {
    let acknowledged = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    let prevEpoch = 0;
    const missing: number[] = [];
    for (let seq = 1; seq <= sent; seq++) {
      const epochs = this.acks.get(seq);
      if (epochs === undefined) {
        missing.push(seq);
        continue;
      }
      acknowledged++;
      duplicated += epochs.length - 1;
      // Messages are taken in order, and renderers follow one another: epochs never go back.
      if (epochs[0]! < prevEpoch) outOfOrder++;
      prevEpoch = epochs[0]!;
    }
    // A missing message is excused only if a renderer that is gone took it (killed, or stopped
    // after it was replaced, both abruptly): one whose epoch lies between the epochs that
    // acknowledged the nearest acknowledged messages around it, and which had recorded taking at
    // least that sequence number before it died.
    let takenByKilled = 0;
    let lost = 0;
    const gone = this.goneEpochs();
    const takenBy = (e: number): number =>
      this.killedTaken.get(e) ?? this.state.taken.at(e % TAKEN_SLOTS).get();
    for (const seq of missing) {
      let lo = seq - 1;
      while (lo > 0 && !this.acks.has(lo)) lo--;
      let hi = seq + 1;
      while (hi <= sent && !this.acks.has(hi)) hi++;
      const before = this.acks.get(lo)?.[0] ?? 0;
      const after = this.acks.get(hi)?.[0] ?? Number.POSITIVE_INFINITY;
      const taker = gone.find((e) => e >= before && e <= after && takenBy(e) >= seq);
      if (taker !== undefined) takenByKilled++;
      else {
        lost++;
        if (final && process.env.HOTSHM_STRESS_VERBOSE === '1')
          process.stderr.write(
            `[stress] message ${seq} lost: acknowledged around it by epochs ${before} (message ${lo}) and ${after} (message ${hi}); renderers gone: ${JSON.stringify(gone)}\n`,
          );
      }
    }
    return { sent, acknowledged, duplicated, takenByKilled, lost, outOfOrder };
  }

  async close(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    await this.state.close();
  }
}
