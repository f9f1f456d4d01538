/**
 * canvas: drawing with Skia (canvaskit-wasm, an optional peer dependency) into a framebuffer.
 */

export type { CanvasOptions, CanvasTarget, FrameCanvas } from './canvas.js';
export { createCanvas, loadCanvasKit, loadTypeface } from './canvas.js';
