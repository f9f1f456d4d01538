/**
 * `@hotshm/hot-reload/memory`: named shared-memory regions without the state layer. Create one,
 * open it by name in another process, get a zero-copy ArrayBuffer over it; the header functions
 * check a region made by `defineState`; stale-region cleanup and the owner's unlink-on-exit hook.
 */
export type { HeaderExpectation, RegionHeader } from '../memory/header.js';
export { HEADER_SIZE, readHeader, validateHeader } from '../memory/header.js';
export type {
  CreateRegionOptions,
  Region,
  RegionDiagnostic,
  StaleRegionCleanup,
} from '../memory/index.js';
export {
  createRegion,
  listStaleRegions,
  MAX_NAME_LENGTH,
  MAX_REGION_SIZE,
  newRegionName,
  openRegion,
  removeStaleRegions,
  unlinkRegion,
} from '../memory/index.js';
export { unlinkOnExit } from '../memory/lifetime.js';
