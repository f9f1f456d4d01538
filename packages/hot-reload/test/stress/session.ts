/**
 * An owner under stress: it creates the stress state with a supervised renderer, sends numbered
 * messages without pause, drains the acknowledgements, and samples the front frame all the time.
 * At the end it accounts for every message: acknowledged once, taken by a renderer that was
 * killed before it could acknowledge (allowed: at most one per killed renderer, right where that
 * renderer stopped), or lost.
 */
import { STRESS_SUPERVISOR, sleep, stderrSink, until } from './fixtures.js';
import { StressState } from './stress-state.js';

type State = Awaited<ReturnType<typeof StressState.owner>>;

export interface Accounting {
  readonly sent: number;
  readonly acknowledged: number;
  readonly duplicated: number;
  readonly takenByKilled: number;
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
  readonly crashes: { pid: number; epoch: number; code: number | null; signal: string | null }[] =
    [];
  readonly warnings: string[] = [];
  readonly reloads: { epoch: number; pid: number; reason: string }[] = [];
  private nextSeq = 1;
  private sending = true;
  private readonly acks = new Map<number, number[]>();
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
      this.crashes.push({ pid: e.pid, epoch: e.epoch, code: e.code, signal: e.signal });
      if (e.epoch > 0) {
        this.killedEpochs.add(e.epoch);
        // The renderer is dead: what it had taken is final (its successor of the same parity
        // starts only after the next reload).
        this.killedTaken.set(e.epoch, state.taken.at(e.epoch & 1).get());
      }
    });
    sup.on('warning', (e) => this.warnings.push(e.message));
    sup.on('reload', (e) => this.reloads.push({ epoch: e.epoch, pid: e.pid, reason: e.reason }));
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
  ): Promise<StressSession> {
    const sink = stderrSink();
    const state = await StressState.owner(size, {
      hot: true,
      entry,
      log,
      host: { ...STRESS_SUPERVISOR, stderr: sink },
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
        const list = this.acks.get(a.seq) ?? [];
        list.push(a.epoch);
        this.acks.set(a.seq, list);
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
    return this.state.host.standbyPid;
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

  frames(): FrameStats {
    return { samples: this.samples, torn: this.torn, blank: this.blank };
  }

  /** Stops sending, waits until every message is taken, and accounts for each. */
  async settle(timeoutMs: number): Promise<Accounting> {
    this.sending = false;
    const sent = this.nextSeq - 1;
    await until(
      () => {
        this.drainAcks();
        return this.state.messages.length === 0 && this.accountFor(sent).lost === 0;
      },
      timeoutMs,
      10,
    );
    await sleep(50);
    this.drainAcks();
    return this.accountFor(sent);
  }

  private accountFor(sent: number): Accounting {
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
    // A missing message is excused only if a killed renderer took it: one whose epoch lies
    // between the epochs that acknowledged the nearest acknowledged messages around it, and which
    // had recorded taking at least that sequence number before it died.
    let takenByKilled = 0;
    let lost = 0;
    const killed = [...this.killedEpochs].sort((a, b) => a - b);
    for (const seq of missing) {
      let lo = seq - 1;
      while (lo > 0 && !this.acks.has(lo)) lo--;
      let hi = seq + 1;
      while (hi <= sent && !this.acks.has(hi)) hi++;
      const before = this.acks.get(lo)?.[0] ?? 0;
      const after = this.acks.get(hi)?.[0] ?? Number.POSITIVE_INFINITY;
      const taker = killed.find(
        (e) => e >= before && e <= after && (this.killedTaken.get(e) ?? 0) >= seq,
      );
      if (taker === undefined) lost++;
      else takenByKilled++;
    }
    return { sent, acknowledged, duplicated, takenByKilled, lost, outOfOrder };
  }

  async close(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    await this.state.close();
  }
}
