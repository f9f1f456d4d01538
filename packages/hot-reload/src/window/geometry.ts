/**
 * Coordinates between a window and its framebuffer. The framebuffer is stretched over the whole
 * drawable; the mouse moves in window units (SDL's screen coordinates), which on a high-DPI
 * screen are fewer than the drawable's pixels. So a pointer position maps to the framebuffer by
 * the ratio of the framebuffer's size to the window's, whatever the pixel density in between.
 */

/**
 * A window coordinate as a framebuffer coordinate. Not clamped: SDL reports a drag that left the
 * window with coordinates outside it, and so does this.
 *
 * @example
 * toFrame(150, 300, 600) // 300: a 300-point window on a 2× screen, framebuffer at its 600 pixels
 */
export function toFrame(v: number, windowSize: number, frameSize: number): number {
  if (frameSize <= 0 || windowSize <= 0 || frameSize === windowSize) return v;
  return Math.floor((v * frameSize) / windowSize);
}

/** The pixel density of a window: drawable pixels per window unit (1 on an ordinary screen). */
export function pixelScale(geometry: {
  readonly width: number;
  readonly pixelWidth: number;
}): number {
  return geometry.width > 0 ? geometry.pixelWidth / geometry.width : 1;
}
