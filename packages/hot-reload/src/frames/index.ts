/**
 * frames: a framebuffer field the renderer draws into and the owner shows, never half-written.
 */

export type {
  FrameBuffer,
  FrameBufferOptions,
  FrameBufferSchema,
  FrameEndpoint,
  FrontFrame,
  PixelFormat,
} from './framebuffer.js';
export { framebuffer, MAX_EPOCH, MAX_FRAME_SIDE } from './framebuffer.js';
