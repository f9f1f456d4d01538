/**
 * The stress harness: injects faults into real renderer and owner processes and prints what
 * happened. `--short` is the CI form (under 3 minutes on 2 cores); without it, the issue's counts.
 * `--json` prints the report as one JSON line at the end (for the vitest wrapper).
 *
 *   node --import tsx packages/hot-reload/test/stress/run.ts [--short] [--json]
 *     [--only=renderer,edits,region,nohot,grandchildren,owner,resource,worker,migration]
 *     [--kills=N] [--each=N] [--owners=N] [--removals=N] [--hangs=N] [--headers=N] [--rings=N]
 *     [--exits=N] [--families=N] [--workers=N] [--migrations=N] [--bursts=N]   (override the counts)
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { editFaults } from './edit-faults.js';
import { migrationFaults } from './migration-faults.js';
import { ownerFaults } from './owner-faults.js';
import { grandchildFaults, noHotExits } from './process-faults.js';
import { regionFaults } from './region-faults.js';
import { rendererFaults } from './renderer-faults.js';
import { resourceFaults } from './resource-faults.js';
import { formatTable, ok, type Report, type Row } from './table.js';
import { workerFaults } from './worker-faults.js';

const PHASES = [
  'renderer',
  'edits',
  'region',
  'nohot',
  'grandchildren',
  'owner',
  'resource',
  'worker',
  'migration',
] as const;
const SHORT = {
  kills: 20,
  each: 1,
  owners: 6,
  removals: 1,
  hangs: 1,
  headers: 2,
  rings: 3,
  exits: 8,
  families: 2,
  workers: 20,
  migrations: 2,
  bursts: 1,
};
const LONG: typeof SHORT = {
  kills: 200,
  each: 3,
  owners: 50,
  removals: 10,
  hangs: 5,
  headers: 20,
  rings: 30,
  exits: 100,
  families: 8,
  workers: 1000,
  migrations: 10,
  bursts: 3,
};
type Count = keyof typeof SHORT;
const COUNTS = Object.keys(SHORT) as Count[];

function usage(problem: string): never {
  process.stderr.write(
    `stress: ${problem}\nusage: run.ts [--short] [--json] [--only=${PHASES.join(',')}] ${COUNTS.map((c) => `[--${c}=N]`).join(' ')}\n`,
  );
  process.exit(2);
}

const countOptions = Object.fromEntries(COUNTS.map((c) => [c, { type: 'string' }])) as Record<
  Count,
  { type: 'string' }
>;
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        short: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        ...countOptions,
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    return usage((e as Error).message);
  }
})();
const short = values.short;
const json = values.json;
const only = values.only?.split(',');
for (const phase of only ?? []) {
  if (!(PHASES as readonly string[]).includes(phase)) {
    usage(`--only: expected phases among ${PHASES.join(', ')}, got "${phase}"`);
  }
}
const wants = (phase: (typeof PHASES)[number]): boolean =>
  only === undefined || only.includes(phase);

const base = short ? SHORT : LONG;
const counts = Object.fromEntries(
  COUNTS.map((name) => {
    const v = values[name];
    if (v === undefined) return [name, base[name]];
    if (!/^[0-9]+$/.test(v)) usage(`--${name}: expected a whole number, got "${v}"`);
    return [name, Number(v)];
  }),
) as Record<Count, number>;

const t0 = performance.now();
const log = (s: string): void => {
  process.stderr.write(`[stress ${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
};

const rows: Row[] = [];
const notes: string[] = [];
if (wants('renderer')) {
  log(`renderer faults: ${counts.kills} SIGKILLs, ${counts.each} of each crash`);
  const r = await rendererFaults({ kills: counts.kills, each: counts.each }, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('edits')) {
  log(
    `editing faults: ${counts.removals} rounds of entry removal/rename/symlink/folder rename, ${counts.hangs} hung starts`,
  );
  const r = await editFaults({ removals: counts.removals, hangs: counts.hangs }, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('region')) {
  log(`region faults: ${counts.headers} header overwrites, ${counts.rings} ring index overwrites`);
  const r = await regionFaults({ headers: counts.headers, rings: counts.rings }, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('nohot')) {
  log(`no-hot exits: ${counts.exits} owners ending right after a burst of input`);
  const r = await noHotExits(counts.exits, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('grandchildren')) {
  log(`renderer grandchildren: ${counts.families} owners whose renderer starts a process`);
  const r = await grandchildFaults(counts.families, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('owner')) {
  log(`owner faults: ${counts.owners} kills`);
  const r = await ownerFaults(counts.owners, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('resource')) {
  log('resource faults');
  const r = await resourceFaults(log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('worker')) {
  log(`worker faults: ${counts.workers} terminations mid-wait`);
  const r = await workerFaults(counts.workers, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (wants('migration')) {
  log(
    `migration faults: ${counts.migrations} renderer and ${counts.migrations} owner SIGKILLs during a migration, /dev/shm full, ${counts.bursts} state edits in a burst of saves`,
  );
  const r = await migrationFaults({ migrations: counts.migrations, bursts: counts.bursts }, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
}
const report: Report = {
  mode: short ? 'short' : 'long',
  rows,
  notes,
  seconds: (performance.now() - t0) / 1000,
};
process.stdout.write(
  `\n${formatTable(report)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n${report.mode} run, ${report.seconds.toFixed(0)} s: ${ok(report) ? 'every fault survived, nothing lost, torn, orphaned or leaked' : 'FAILED'}\n`,
);
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
// `pnpm stress` (the long run of every fault) keeps its report for the README (scripts/figures.mjs).
const resultsFile = process.env.HOTSHM_STRESS_RESULTS;
if (resultsFile) {
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        ...report,
        _meta: {
          date: new Date().toISOString().slice(0, 10),
          node: process.version,
          cores: cpus().length,
          os: `${process.platform} ${release()}`,
        },
      },
      null,
      2,
    )}\n`,
  );
}
process.exit(ok(report) ? 0 : 1);
