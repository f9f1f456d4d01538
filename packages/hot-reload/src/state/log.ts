/**
 * The default console report of a renderer host: one line per reload with its phases, build
 * errors with file and line, crashes with the exit code or signal. Owners that show these
 * elsewhere (a window title) pass `log: false` or listen to the same events.
 */
import type { RendererHost } from './define.js';

const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(1)} ms`);

export function attachLogger(host: RendererHost, sink?: (line: string) => void): void {
  const out = (line: string): void => {
    if (sink) sink(`[hotshm] ${line}`);
    else process.stderr.write(`[hotshm] ${line}\n`);
  };
  host.on('reload', (e) => {
    const t = e.timings;
    if (e.reason === 'start') {
      out(
        `renderer started (pid ${e.pid}, epoch ${e.epoch}): ready ${ms(t.handoffToReadyMs)}, first frame ${ms(t.handoffToFrameMs)}`,
      );
    } else if (e.reason === 'restart') {
      out(`renderer restarted (pid ${e.pid}, epoch ${e.epoch})`);
    } else {
      out(
        `reloaded in ${ms(t.totalMs)} (change→built ${ms(t.changeToBuildMs)}, build ${ms(t.buildMs)}, ready ${ms(t.handoffToReadyMs)}, frame ${ms(t.handoffToFrameMs)}) pid ${e.pid}`,
      );
    }
  });
  host.on('build-error', (e) => {
    out(`build failed; the running renderer keeps going:\n${e.messages.join('\n')}`);
  });
  host.on('crash', (e) => {
    const how = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
    const next = e.willRestart
      ? `restarting in ${e.restartInMs} ms`
      : 'waiting for the next change';
    out(
      `renderer ${e.phase === 'start' ? 'failed to start' : 'crashed'} (pid ${e.pid}, ${how}): ${e.message}; ${next}`,
    );
  });
  host.on('layout-change', (e) => out(e.message));
  host.on('warning', (e) => out(`warning: ${e.message}`));
}
