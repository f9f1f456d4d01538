/**
 * The renderer's program: built in the owner (program.ts: esbuild for the module graph, oxc per
 * file, a fast path that re-transforms only saved files), run in a renderer without Node's module
 * loader (evaluate.ts). esbuild's service is leased by its users and stopped by the last
 * (service.ts). The library renderers run on (library.ts) and the legacy bundle path
 * (bundler.ts) live here too.
 */
export type { BuildOutput, Bundler, BundlerOptions } from './bundler.js';
export { createBundler } from './bundler.js';
export type { EvaluateOptions, ImportExternal, PreloadReport } from './evaluate.js';
export { evaluateProgram, preloadExternals, warmUpEvaluation } from './evaluate.js';
export type { LibraryBuild } from './library.js';
export { buildLibrary, distLibrary } from './library.js';
export type { BuildPath, ProgramBuilder, ProgramBuilderOptions } from './program.js';
export { createProgramBuilder } from './program.js';
export type { EsbuildLease } from './service.js';
export { esbuildUsers, leaseEsbuild } from './service.js';
export type { ImportTarget, Program, ProgramModule } from './types.js';
