/**
 * @hotshm/hot-reload: hot reload for graphical Node.js apps over typed shared memory.
 * Each concern lives in its own folder; this file re-exports their public surface by name.
 */
export * from './errors.js';
export type { Access, BindContext, Infer, Schema, WriteOptions } from './schema/types.js';
