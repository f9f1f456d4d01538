/**
 * Before a new program's main() runs: does the state it defines still fit the region? Returns the
 * new layout's description when it does not (the owner migrates the region to it), undefined when
 * it fits or the program defines no state this region holds.
 */
import type { Region } from '../../memory/index.js';
import { layoutChange as stateLayoutChange } from '../../state/define.js';

export function layoutChange(region: Region, argsJson: string): unknown {
  return stateLayoutChange(region, argsJson);
}
