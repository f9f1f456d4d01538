/**
 * memory: named shared regions (create / open / close / unlink, zero-copy views), the region
 * header (a schema layout), stale-region cleanup and the owner's unlink-on-exit hook. One module per platform
 * (Linux, macOS, Windows) behind one interface, chosen once at load.
 */

export { MAX_NAME_LENGTH, MAX_REGION_SIZE } from './backend.js';
export type { HeaderExpectation, HeaderFields, HeaderLayout, RegionHeader } from './header.js';
export {
  FINGERPRINT_SIZE,
  FORMAT_VERSION,
  HEADER_MAGIC,
  HEADER_SIZE,
  Header,
  HeaderOffset,
  HeaderSlot,
  headerLayout,
  markReady,
  REGION_ALIGNMENT,
  readHeader,
  validateForeignHeader,
  validateHeader,
  writeHeader,
} from './header.js';
export { unlinkOnExit } from './lifetime.js';
export type { RegionDiagnostic } from './records.js';
export type { CreateRegionOptions, Region } from './region.js';
export { createRegion, newRegionName, openRegion, unlinkRegion } from './region.js';
export type { StaleRegionCleanup } from './stale.js';
export { isProcessAlive, listStaleRegions, removeStaleRegions } from './stale.js';
