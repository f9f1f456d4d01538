/**
 * The regions this process has mapped, by address (recorded by memory/region.ts; a registry of the
 * process's native mappings, so it sits below both memory and sync). A word's native address differs from one
 * process to the next; its region name and offset do not. The Windows wait module names its
 * kernel objects after them (see sync/windows.ts), and closes those objects when the region is
 * closed.
 */

export interface MappedSpan {
  /** The region's POSIX-style name, e.g. '/hotshm-1234-0a1b2c3d'. */
  readonly name: string;
  /** Native address of byte 0 in this process. */
  readonly address: bigint;
  readonly size: number;
  /** Runs `listener` once, when the region is closed in this process. */
  onClose(listener: () => void): void;
}

const spans = new Set<MappedSpan>();

/** Records a mapping; the returned function forgets it and runs its close listeners. */
export function trackMapping(name: string, address: bigint, size: number): () => void {
  const listeners: Array<() => void> = [];
  const span: MappedSpan = {
    name,
    address,
    size,
    onClose(listener) {
      listeners.push(listener);
    },
  };
  spans.add(span);
  return () => {
    if (!spans.delete(span)) return;
    for (const listener of listeners.splice(0)) listener();
  };
}

/** The mapped region that holds `address` in this process, if any. */
export function mappingAt(address: bigint): MappedSpan | undefined {
  for (const span of spans) {
    if (address >= span.address && address < span.address + BigInt(span.size)) return span;
  }
  return undefined;
}
