/**
 * Before a new program's main() runs: does the state it defines still fit the region? Returns the
 * new layout's description when it does not (the owner migrates the region to it), undefined when
 * it fits or the program defines no state this region holds.
 */
import type { Region } from '../../memory/index.js';

export function layoutChange(_region: Region, _argsJson: string): unknown {
  return undefined;
}
