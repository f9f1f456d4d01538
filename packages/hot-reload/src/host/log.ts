/**
 * The default report of a renderer host, one line per event: each reload once, with its phases;
 * build errors with file, line and a code frame; crashes with the exit code or signal and what
 * comes next; repairs of a damaged region. Owners that show these elsewhere (a window title)
 * pass `log: false` or a function, or listen to the same events.
 */
import type { RendererHost } from './events.js';

const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(1)} ms`);

export function attachLogger(host: RendererHost, sink?: (line: string) => void): void {
  const out = (line: string): void => {
    if (sink) sink(`[hotshm] ${line}`);
    else process.stderr.write(`[hotshm] ${line}\n`);
  };
  host.on('reload', (e) => {
    const t = e.timings;
    const where = host.mode === 'worker' ? 'on a worker thread' : `pid ${e.pid}`;
    if (e.reason === 'start') {
      out(
        `renderer started (${where}, epoch ${e.epoch}): ready ${ms(t.handoffToReadyMs)}, first frame ${ms(t.handoffToFrameMs)}`,
      );
    } else if (e.reason === 'restart') {
      out(`renderer restarted (${where}, epoch ${e.epoch})`);
    } else if (e.reason === 'resize') {
      out(`renderer running with the new arguments (${where}, epoch ${e.epoch})`);
    } else {
      const extra = [
        t.heldMs >= 0.05 ? `held ${ms(t.heldMs)}` : '',
        e.coldStart ? 'cold start' : '',
        e.superseded > 0
          ? `${e.superseded} earlier save${e.superseded > 1 ? 's' : ''} folded in`
          : '',
      ].filter(Boolean);
      out(
        `reloaded in ${ms(t.totalMs)}: change→built ${ms(t.changeToBuildMs)} (esbuild ${ms(t.buildMs)}), ready ${ms(t.handoffToReadyMs)} (deliver ${ms(t.deliverMs)}, import ${ms(t.importMs)}, state ${ms(t.stateMs)}), frame ${ms(t.handoffToFrameMs)}${extra.length ? `; ${extra.join(', ')}` : ''} (${where})`,
      );
    }
  });
  host.on('build-error', (e) => {
    out(`build failed; the running renderer keeps going:\n${e.messages.join('\n')}`);
  });
  host.on('crash', (e) => {
    const next = e.willRestart
      ? `restarting in ${e.restartInMs} ms`
      : host.mode === 'process'
        ? 'waiting for the next change'
        : 'not restarting';
    out(`renderer ${e.phase === 'start' ? 'failed to start' : 'crashed'}: ${e.message}; ${next}`);
  });
  host.on('migrate', (e) => {
    const took = e.totalMs === null ? '' : ` in ${e.totalMs.toFixed(1)} ms`;
    const why =
      e.reason === 'resize'
        ? 'resized'
        : e.reason === 'adopt'
          ? 'taken over from the previous owner'
          : 'migrated to the new state definition';
    out(`state ${why}${took}: ${e.summary} (${e.from} → ${e.to})`);
  });
  host.on('layout-change', (e) => out(e.message));
  host.on('repair', (e) => {
    for (const r of e.repairs) out(`repaired the region: ${r.message}`);
  });
  host.on('warning', (e) => out(`warning: ${e.message}`));
}
