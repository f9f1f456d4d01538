/**
 * The owner's side of a state, over the whole life of its region(s): it creates the region,
 * publishes it, keeps the owner's view bound to it, and migrates it when the layout changes.
 *
 * A migration, as the host drives it:
 *
 *   prepareMigration(to)        the new region, created, initialised, not yet ready; the owner's
 *                               use of the old layout checked (IncompatibleChangeError)
 *        │  (host: stop the old renderer)
 *   commitMigration(p, {epoch}) values carried, the new region ready for the renderer of `epoch`,
 *                               the owner's view rebound; the old region stays mapped
 *        │  (host: start the new renderer on p.to; wait for the old one to be gone)
 *   releaseRegion(p)            the old region unlinked and unmapped
 *
 * or `abortMigration(p)` instead of the commit. `adopt(name)` is the same carry from another
 * owner's region (a restarted owner), in one call.
 */

import type { Channel } from '../channel/index.js';
import {
  IncompatibleChangeError,
  InvalidArgumentError,
  RegionExistsError,
  SchemaError,
} from '../errors.js';
import { beginFrameEpoch, prefaultCarry } from '../frames/framebuffer.js';
import type { FrameBuffer, FrameBufferSchema } from '../frames/index.js';
import {
  HEADER_SIZE,
  HeaderSlot,
  type HeaderSnapshot,
  headerLayout,
  markReady,
  snapshotHeader,
  validateForeignHeader,
  writeHeader,
} from '../memory/header.js';
import {
  createRegion,
  newRegionName,
  openRegion,
  type Region,
  removeStaleRegions,
} from '../memory/index.js';
import { unlinkOnExit } from '../memory/lifetime.js';
import { RegionContext } from './context.js';
import { describeLayout, type LayoutDescriptor, layoutFromDescriptor } from './descriptor.js';
import { describe, initFields, type StateLayout } from './layout.js';
import {
  executeMigration,
  type MigrationPlan,
  type MigrationReport,
  planMigration,
} from './migrate.js';
import { checkEpoch, checkRegionName } from './runtime.js';
import { OwnerView } from './view.js';

/** Something the owner found damaged in its region and put right. */
export interface RegionRepair {
  /** 'header', or the name of the field. */
  readonly part: string;
  readonly message: string;
}

/** Where a migration goes: a new layout (a new definition's descriptor), or new arguments. */
export type MigrationTarget<Args> =
  | LayoutDescriptor
  | {
      readonly args: Args;
      /**
       * The layout for `args`, from the definition that is current (a renderer's
       * `StateCore.describe(args)`). Needed once the state's definition changed away from the
       * owner's own (after a migration to a renderer's descriptor); without it, the owner's own
       * definition lays the fields out for `args`.
       */
      readonly layout?: LayoutDescriptor;
    };

/** A migration made ready by `prepareMigration`: the new region exists, nothing is carried yet. */
export interface PreparedMigration {
  /** The region the values come from (the current one when prepared). */
  readonly from: Region;
  /** The new region: created and initialised; ready (validatable) once committed. */
  readonly to: Region;
  readonly layout: StateLayout;
  readonly descriptor: LayoutDescriptor;
  /** The arguments the renderer of the new region gets. */
  readonly argsJson: string;
  readonly plan: MigrationPlan;
  readonly phase: 'prepared' | 'committed' | 'released' | 'aborted';
}

/** What the owner keeps of each region it has mapped. */
class Live {
  readonly region: Region;
  readonly layout: StateLayout;
  readonly ctx: RegionContext;
  readonly headerI32: Int32Array;
  readonly disposeExitHook: () => void;
  /** The state layer's own accessors (not the owner's view): for epochs and interruptions. */
  readonly framebuffers: FrameBuffer[];
  readonly channels: Array<{ name: string; ch: Channel<unknown> & { interruptWaiters(): void } }>;
  header: HeaderSnapshot | undefined;
  /** Only this owner writes the retired word; what it wrote is what the word must hold. */
  retiredWritten = 0;

  constructor(region: Region, layout: StateLayout, onCorrupt: (what: string) => void) {
    this.region = region;
    this.layout = layout;
    this.disposeExitHook = unlinkOnExit(region);
    this.ctx = new RegionContext(region, 'owner', 0, undefined, onCorrupt);
    this.headerI32 = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
    this.framebuffers = [];
    this.channels = [];
    for (const f of layout.fields) {
      if (f.schema.kind === 'framebuffer') {
        this.framebuffers.push(f.schema.bind(this.ctx, f.offset, f.name) as FrameBuffer);
      } else if (f.schema.kind === 'channel') {
        const ch = f.schema.bind(this.ctx, f.offset, f.name) as Channel<unknown> & {
          interruptWaiters(): void;
        };
        this.channels.push({ name: f.name, ch });
      }
    }
  }

  beginEpoch(epoch: number): void {
    Atomics.store(this.headerI32, HeaderSlot.epoch, epoch);
    for (const fb of this.framebuffers) beginFrameEpoch(fb, epoch);
  }

  retire(epoch: number): void {
    this.retiredWritten = Math.max(this.retiredWritten, epoch);
    // Only ever moves forward: a late retire of an older epoch never revives a newer one.
    for (;;) {
      const current = Atomics.load(this.headerI32, HeaderSlot.retired);
      if (current >= epoch) break;
      if (Atomics.compareExchange(this.headerI32, HeaderSlot.retired, current, epoch) === current) {
        break;
      }
    }
    for (const { ch } of this.channels) ch.interruptWaiters();
  }

  /** Gives back what a gone renderer of `epoch` held (handled delivery); the poison reports. */
  releaseClaims(epoch: number, crashed: boolean): string[] {
    const reports: string[] = [];
    for (const { name, ch } of this.channels) {
      if (ch.delivery !== 'handled') continue;
      const { poison } = ch.releaseClaims(epoch, { crashed });
      if (poison !== undefined) reports.push(`${name}: ${poison.report}`);
    }
    return reports;
  }

  close(unlink: boolean): void {
    this.disposeExitHook();
    if (unlink) this.region.unlink();
    this.region.close();
  }
}

/**
 * Creates a region for `layout` with its header written and its fields initialised; not ready.
 * `forCarry`: a migration will carry a frame into it, so the pages it will copy into are mapped
 * now, off the commit's path.
 */
function createStateRegion(
  layout: StateLayout,
  onCorrupt: (what: string) => void,
  warn: (message: string) => void,
  forCarry = false,
): Live {
  const descriptor = JSON.stringify(describeLayout(layout));
  const hl = headerLayout(layout.dataSize, Buffer.byteLength(descriptor));
  const region = createFreshRegion(hl.totalSize, warn);
  let live: Live;
  try {
    writeHeader(region, { fingerprint: layout.fingerprint, descriptor, ownerPid: process.pid });
    initFields(layout, new DataView(region.buffer));
    if (forCarry) {
      for (const f of layout.fields) {
        if (f.schema.kind === 'framebuffer') {
          prefaultCarry(region.buffer, f.offset, f.schema as FrameBufferSchema);
        }
      }
    }
    live = new Live(region, layout, onCorrupt);
  } catch (e) {
    region.unlink();
    region.close();
    throw e;
  }
  Atomics.store(live.headerI32, HeaderSlot.epoch, 1);
  Atomics.store(live.headerI32, HeaderSlot.retired, 0);
  return live;
}

/** Publishes a region: ready last, then the snapshot the damage checks compare against. */
function publish(live: Live): void {
  markReady(live.region);
  live.header = snapshotHeader(live.region);
}

function createFreshRegion(size: number, warn: (message: string) => void): Region {
  // A name someone else created first is never opened as ours: O_EXCL fails, and we pick another.
  for (let attempt = 0; ; attempt++) {
    const regionName = newRegionName();
    try {
      const region = createRegion(regionName, size);
      // What the memory layer could not do without failing (its region records): the owner's
      // warnings, not a failure of the start.
      for (const d of region.diagnostics ?? []) warn(d.message);
      return region;
    } catch (e) {
      if (!(e instanceof RegionExistsError) || attempt >= 4) throw e;
      warn(`region name ${regionName} was already taken by another process; using a fresh name`);
    }
  }
}

class Prepared implements PreparedMigration {
  readonly from: Region;
  readonly to: Region;
  readonly layout: StateLayout;
  readonly descriptor: LayoutDescriptor;
  readonly argsJson: string;
  readonly args: unknown;
  readonly plan: MigrationPlan;
  /** The owner's own definition lays the target out (false: a renderer's definition does). */
  readonly ownDefinition: boolean;
  readonly live: Live;
  readonly source: Live;
  phase: PreparedMigration['phase'] = 'prepared';
  constructor(init: Omit<Prepared, 'phase' | 'from' | 'to'>) {
    this.layout = init.layout;
    this.descriptor = init.descriptor;
    this.argsJson = init.argsJson;
    this.args = init.args;
    this.plan = init.plan;
    this.ownDefinition = init.ownDefinition;
    this.live = init.live;
    this.source = init.source;
    this.from = init.source.region;
    this.to = init.live.region;
  }
}

/** What the owner side needs of its definition. */
export interface OwnerDefinition<Args> {
  readonly name: string;
  /** The owner's own layout for `args` (checks them). */
  layout(args: Args): StateLayout;
  /** `args` as the renderer receives them (checks they survive JSON). */
  encodeArgs(args: Args): string;
  /** Checks arguments that came from elsewhere (JSON), naming `where`. */
  checkArgs(args: unknown, where: string): asserts args is Args;
}

/**
 * The owner's side of a state: the typed fields, and the operations a renderer host performs on
 * the region. Created by `StateCore.create`; closed by the owner entry.
 */
export interface OwnedState<Args, Fields> {
  /** The owner's view: its fields as its code declared them, over the current region. */
  readonly fields: Fields;
  /** The current arguments (they change with a migration to new arguments). */
  readonly args: Args;
  /** The arguments as the renderer receives them. */
  readonly argsJson: string;
  /** The current region (it changes with each migration). */
  readonly region: Region;
  /** The current layout. */
  readonly layout: StateLayout;
  /**
   * From now on only the renderer of `epoch` may present frames. A renderer begins its own epoch
   * when it gets its state (see `reloadable()`); the owner calls this to give the floor back.
   */
  beginEpoch(epoch: number): void;
  /** The epoch currently allowed to present. */
  currentEpoch(): number;
  /**
   * Renderers of `epoch` and older must stop: their channels close (receives end, `for await`
   * loops finish) and every parked receiver is woken to see it. Applies to the current region and
   * to every old one not yet released (a renderer still on it sees it too).
   */
  retire(epoch: number): void;
  /** Frames presented so far, if the state has a framebuffer. */
  frameCount(): number | undefined;
  /**
   * A renderer of `epoch` has exited (call it on every exit, before its epoch goes to another
   * renderer): what it had taken and not committed on channels with `delivery: 'handled'` goes
   * back to the next consumer, on the current region and every old one not yet released.
   * Returns a report per message dropped as poison (two renderers crashed on it).
   */
  releaseClaims(epoch: number, options: { readonly crashed: boolean }): string[];
  /**
   * Checks the header against what the owner wrote and every field's control words (and, with
   * `deep`, the messages queued in channels), repairs what is damaged, and says what it repaired.
   */
  inspect(deep?: boolean): RegionRepair[];
  /** Repairs found by the fields' own accessors while the owner used them (then cleared). */
  takeRepairs(): RegionRepair[];
  /** Things worth a `warning` event (a region name already taken…), then cleared. */
  takeWarnings(): string[];
  /** The current layout as data (what the region header holds). */
  describe(): LayoutDescriptor;
  /** Paths the owner's code has used so far (`memory.clicks`…): a migration must keep them. */
  used(): string[];
  /**
   * New arguments that do not change the layout (a renderer went live with them): `args` and
   * `argsJson` become them. Throws `ValueError` for arguments the schema refuses, and
   * `InvalidArgumentError` when the owner's own definition lays them out differently (that is a
   * migration: `prepareMigration({ args })`).
   */
  useArgs(argsJson: string): void;
  /**
   * Creates the region for `to` and checks that the owner's code can carry on over it. Throws
   * `IncompatibleChangeError` (a used path removed or retyped), `SchemaError` (a bad
   * descriptor), `RegionSystemError` (no room for the new region: it says how much was needed).
   * Nothing changes for the current region and its renderer.
   */
  prepareMigration(to: MigrationTarget<Args>): PreparedMigration;
  /**
   * Carries every value into the prepared region (stop the renderer of the old one first: what
   * it writes after this is lost), makes it ready for the renderer of `epoch`, and rebinds the
   * owner's view to it. The old region stays mapped until `releaseRegion`. Throws
   * `IncompatibleChangeError` if the owner's code started using a path since the prepare.
   */
  commitMigration(
    prepared: PreparedMigration,
    options: { readonly epoch: number },
  ): MigrationReport;
  /** Unlinks and unmaps the old region of a committed migration, once no renderer uses it. */
  releaseRegion(prepared: PreparedMigration): void;
  /** Drops a prepared migration (its new region is unlinked); the current region stays. */
  abortMigration(prepared: PreparedMigration): void;
  /**
   * A restarted owner: carries everything from another owner's region (a live owner's, same
   * state name, any layout) into a fresh region of this one's, for the renderer of the current
   * epoch. The other region is unmapped here, not unlinked: its owner removes it.
   */
  adopt(regionName: string): MigrationReport;
  /** Unlinks and unmaps the region (and any old one). Every accessor throws RegionClosedError afterwards. */
  close(): void;
}

/** Owner side: creates, initialises and publishes the region, and returns its owner's state. */
export function createOwned<Args, Fields>(
  def: OwnerDefinition<Args>,
  initialArgs: Args,
): OwnedState<Args, Fields> {
  const declared = def.layout(initialArgs);
  let args = initialArgs;
  let argsJson = def.encodeArgs(initialArgs);
  const found: RegionRepair[] = [];
  const warnings: string[] = [];
  const onCorrupt = (message: string): void => {
    found.push({ part: message.split(':')[0] ?? 'field', message });
  };
  const warn = (message: string): void => {
    warnings.push(message);
  };
  try {
    for (const d of removeStaleRegions().diagnostics) warn(d.message);
  } catch (e) {
    // Cleaning up after dead owners is best effort; it never stops a start.
    warn(`could not remove the regions of owners that are gone: ${(e as Error).message}`);
  }
  let current = createStateRegion(declared, onCorrupt, warn);
  publish(current);
  /** Old regions of committed migrations, until released. */
  const old = new Set<Live>();
  /** Migrations prepared and not yet finished (their new regions are ours to remove). */
  const pending = new Set<Prepared>();
  /** Every migration this state prepared (a finished one may be passed again: a no-op). */
  const mine = new WeakSet<Prepared>();
  /** False once a migration went to a layout the owner's own definition does not make. */
  let ownDefinition = true;
  const view = new OwnerView(declared, current.ctx);
  let closed = false;

  const assertOpen = (what: string): void => {
    if (closed) throw new InvalidArgumentError(`${what}: the state is closed`);
  };

  const targetOf = (
    to: MigrationTarget<Args>,
  ): {
    layout: StateLayout;
    args: Args;
    argsJson: string;
    own: boolean;
  } => {
    if (typeof to !== 'object' || to === null) {
      throw new InvalidArgumentError(
        `prepareMigration: expected a layout descriptor or { args }, got ${describe(to)}`,
      );
    }
    if ('args' in to) {
      def.checkArgs(to.args, `${def.name} args`);
      const nextJson = def.encodeArgs(to.args);
      if (to.layout !== undefined) {
        return {
          layout: layoutFromDescriptor(to.layout),
          args: to.args,
          argsJson: nextJson,
          own: false,
        };
      }
      if (!ownDefinition) {
        throw new InvalidArgumentError(
          `prepareMigration({ args }): the state's definition changed since the owner started (the renderer's code has the current one): expected { args, layout } with the layout that definition gives for these arguments (StateCore.describe(args) in the renderer)`,
        );
      }
      return { layout: def.layout(to.args), args: to.args, argsJson: nextJson, own: true };
    }
    const layout = layoutFromDescriptor(to);
    let own = false;
    try {
      own = def.layout(args).signature === layout.signature;
    } catch {
      own = false;
    }
    return { layout, args, argsJson, own };
  };

  const refuseIncompatible = (plan: MigrationPlan): void => {
    const problem = view.check(plan);
    if (problem !== undefined) throw new IncompatibleChangeError(problem.path, problem.reason);
  };

  const prepared = (p: PreparedMigration, what: string): Prepared => {
    if (!(p instanceof Prepared) || !mine.has(p)) {
      throw new InvalidArgumentError(
        `${what}: expected a migration prepared by this state's prepareMigration, got ${describe(p)}`,
      );
    }
    return p;
  };

  const commit = (p: Prepared, epoch: number): MigrationReport => {
    refuseIncompatible(p.plan);
    view.settleChannels();
    const report = executeMigration(p.plan, p.source.region, p.live.region, { epoch });
    // The new region belongs to the renderer of `epoch` from the start: nothing older is live on
    // it, so nothing needs retiring there.
    Atomics.store(p.live.headerI32, HeaderSlot.epoch, epoch);
    publish(p.live);
    view.rebind(p.plan, p.live.ctx);
    old.add(current);
    current = p.live;
    args = p.args as Args;
    argsJson = p.argsJson;
    ownDefinition = p.ownDefinition;
    p.phase = 'committed';
    return report;
  };

  const state: OwnedState<Args, Fields> = {
    get fields() {
      return view.fields as Fields;
    },
    get args() {
      return args;
    },
    get argsJson() {
      return argsJson;
    },
    get region() {
      return current.region;
    },
    get layout() {
      return current.layout;
    },
    beginEpoch(epoch) {
      if (closed) return;
      current.beginEpoch(epoch);
    },
    currentEpoch() {
      return closed ? 0 : Atomics.load(current.headerI32, HeaderSlot.epoch);
    },
    retire(epoch) {
      if (closed) return;
      current.retire(epoch);
      for (const live of old) live.retire(epoch);
    },
    releaseClaims(epoch, options) {
      if (closed) return [];
      const crashed = options?.crashed === true;
      return [current, ...old].flatMap((live) => live.releaseClaims(epoch, crashed));
    },
    frameCount() {
      const fb = current.framebuffers[0];
      return fb === undefined || closed ? undefined : fb.frameCount();
    },
    inspect(deep = false) {
      if (closed) return [];
      const repairs: RegionRepair[] = [];
      const { region, headerI32, layout } = current;
      const damage = current.header?.damage();
      if (damage !== undefined) {
        current.header?.restore();
        repairs.push({ part: 'header', message: `${damage}; the owner wrote it back` });
      }
      const retired = Atomics.load(headerI32, HeaderSlot.retired);
      if (retired !== current.retiredWritten) {
        Atomics.store(headerI32, HeaderSlot.retired, current.retiredWritten);
        repairs.push({
          part: 'header',
          message: `the retired word of region ${region.name} was overwritten (expected ${current.retiredWritten}, got ${retired}); the owner wrote it back`,
        });
      }
      const view = new DataView(region.buffer);
      for (const f of layout.fields) {
        const message = f.schema.repair?.(view, f.offset, f.name, deep);
        if (message !== undefined) repairs.push({ part: f.name, message });
      }
      return repairs;
    },
    takeRepairs() {
      return found.splice(0);
    },
    takeWarnings() {
      return warnings.splice(0);
    },
    describe() {
      return describeLayout(current.layout);
    },
    used() {
      return view.used();
    },
    useArgs(json) {
      assertOpen('useArgs');
      let next: unknown;
      try {
        next = JSON.parse(json);
      } catch (e) {
        throw new InvalidArgumentError(
          `useArgs: expected the arguments as JSON, got ${describe(json)}`,
          {
            cause: e,
          },
        );
      }
      def.checkArgs(next, `${def.name} args`);
      if (ownDefinition && def.layout(next).signature !== current.layout.signature) {
        throw new InvalidArgumentError(
          `useArgs: these arguments change the layout of ${def.name}: expected a migration (prepareMigration({ args })), got ${json}`,
        );
      }
      args = next;
      argsJson = def.encodeArgs(next);
    },
    prepareMigration(to) {
      assertOpen('prepareMigration');
      const target = targetOf(to);
      if (target.layout.state !== def.name) {
        throw new SchemaError(
          `prepareMigration: expected a layout of state ${JSON.stringify(def.name)}, got one of ${JSON.stringify(target.layout.state)}`,
        );
      }
      const plan = planMigration(current.layout, target.layout);
      refuseIncompatible(plan);
      const live = createStateRegion(target.layout, onCorrupt, warn, true);
      const p = new Prepared({
        layout: target.layout,
        descriptor: describeLayout(target.layout),
        argsJson: target.argsJson,
        args: target.args,
        plan,
        ownDefinition: target.own,
        live,
        source: current,
      });
      pending.add(p);
      mine.add(p);
      return p;
    },
    commitMigration(p, options) {
      assertOpen('commitMigration');
      const m = prepared(p, 'commitMigration');
      if (m.phase !== 'prepared') {
        throw new InvalidArgumentError(
          `commitMigration: expected a prepared migration, got one ${m.phase}`,
        );
      }
      if (m.source !== current) {
        throw new InvalidArgumentError(
          `commitMigration: the migration was prepared from region ${m.from.name}, but the state is on ${current.region.name} now: prepare it again`,
        );
      }
      const epoch = checkEpoch(options?.epoch, 'commitMigration epoch');
      return commit(m, epoch);
    },
    releaseRegion(p) {
      const m = prepared(p, 'releaseRegion');
      if (m.phase === 'released') return;
      if (m.phase !== 'committed') {
        throw new InvalidArgumentError(
          `releaseRegion: expected a committed migration, got one ${m.phase}`,
        );
      }
      m.phase = 'released';
      pending.delete(m);
      if (old.delete(m.source)) m.source.close(true);
    },
    abortMigration(p) {
      const m = prepared(p, 'abortMigration');
      if (m.phase === 'aborted') return;
      if (m.phase !== 'prepared') {
        throw new InvalidArgumentError(
          `abortMigration: expected a migration not yet committed, got one ${m.phase} (release its old region instead)`,
        );
      }
      m.phase = 'aborted';
      pending.delete(m);
      m.live.close(true);
    },
    adopt(regionName) {
      assertOpen('adopt');
      const name = checkRegionName(regionName, 'adopt');
      const foreign = openRegion(name);
      try {
        const header = validateForeignHeader(foreign);
        let layout: StateLayout;
        try {
          layout = layoutFromDescriptor(JSON.parse(header.descriptor));
        } catch (e) {
          throw new SchemaError(
            `adopt: region ${name}'s layout descriptor does not rebuild: ${(e as Error).message}`,
            { cause: e },
          );
        }
        if (!Buffer.from(header.fingerprint).equals(Buffer.from(layout.fingerprint))) {
          throw new SchemaError(
            `adopt: region ${name}'s header fingerprint is not the one of its own layout descriptor`,
          );
        }
        if (layout.state !== def.name) {
          throw new SchemaError(
            `adopt: region ${name} holds state ${JSON.stringify(layout.state)}, expected ${JSON.stringify(def.name)}`,
          );
        }
        const plan = planMigration(layout, current.layout);
        refuseIncompatible(plan);
        const live = createStateRegion(current.layout, onCorrupt, warn, true);
        const epoch = Atomics.load(current.headerI32, HeaderSlot.epoch) || 1;
        let report: MigrationReport;
        try {
          report = executeMigration(plan, foreign, live.region, { epoch });
        } catch (e) {
          live.close(true);
          throw e;
        }
        Atomics.store(live.headerI32, HeaderSlot.epoch, epoch);
        publish(live);
        // The owner's view follows its own layout into the fresh region: nothing moves in it.
        view.rebind(planMigration(current.layout, current.layout), live.ctx);
        const previous = current;
        current = live;
        previous.close(true);
        return report;
      } finally {
        foreign.close();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const p of pending) if (p.phase === 'prepared') p.live.close(true);
      pending.clear();
      for (const live of old) live.close(true);
      old.clear();
      current.close(true);
    },
  };
  return state;
}
