/**
 * `@hotshm/hot-reload/window`: the display back ends an owner shows its state's framebuffer in
 * (an SDL2 window through koffi, a truecolor terminal, headless). Loading this module loads no
 * native library: SDL2 is opened only when a window is.
 */
export * from '../window/index.js';
