/**
 * `@hotshm/hot-reload/canvas`: a renderer draws with Skia (CanvasKit, from the optional peer
 * dependency `canvaskit-wasm` 0.42) and presents the drawing as a frame of a framebuffer field,
 * with one copy and no per-pixel work in JavaScript. Importing it starts loading CanvasKit.
 */
export type { CanvasOptions, CanvasTarget, FrameCanvas } from '../canvas/index.js';
export { createCanvas, loadCanvasKit, loadTypeface } from '../canvas/index.js';
export { CanvasError } from '../errors.js';
