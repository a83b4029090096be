import { fail, pass, warn, type CheckResult } from '../../check.ts';
import type { AggregateShape, HypertableShape, TimescaleCatalog } from './catalog.ts';
import { bothSides, counted, listed, missing, paired, type Sides } from './words.ts';

type Catalogs = [TimescaleCatalog, TimescaleCatalog];

/** The versions: a dump restores only into the same one, but a migration target may well run a newer one. */
export function compareExtension(sides: Sides, catalogs: Catalogs): CheckResult {
  const name = 'timescaledb parity: extension';
  const [a, b] = catalogs.map((catalog) => catalog.version);
  const details = { versions: { [sides[0].label]: a, [sides[1].label]: b } };
  if (a === b) return pass(name, `timescaledb ${a} on both sides`, details);
  return warn(name, `timescaledb ${bothSides(sides, [a!, b!])}; the shapes below are compared all the same`, details);
}

/** Which tables are hypertables, on which time column, with which chunk interval and further dimensions. */
export function compareHypertables(sides: Sides, catalogs: Catalogs): CheckResult {
  const name = 'timescaledb parity: hypertables';
  const problems: string[] = [];
  const alike: HypertableShape[] = [];
  for (const [table, a, b] of paired([catalogs[0].hypertables, catalogs[1].hypertables], (h) => h.table)) {
    if (!a || !b) {
      problems.push(`${table} is not a hypertable in ${sides[a ? 1 : 0].label}`);
      continue;
    }
    const differences = [
      differs('time column', `${a.timeColumn} (${a.timeType})`, `${b.timeColumn} (${b.timeType})`),
      differs('chunk interval', a.chunkInterval, b.chunkInterval),
      differs('other dimensions', a.otherDimensions || 'none', b.otherDimensions || 'none'),
    ].filter((difference) => difference !== undefined);
    if (differences.length === 0) alike.push(a);
    else problems.push(`${table}: ${differences.map((d) => `${d.what} ${bothSides(sides, d.values)}`).join(', ')}`);
  }
  const details = { hypertables: catalogs.map((catalog) => catalog.hypertables.map(withoutChunks)) };
  if (problems.length > 0) return fail(name, problems.join('; '), details);
  if (alike.length === 0) return pass(name, 'no hypertables on either side', details);
  const described = alike.map((h) => `${h.table} (${h.timeColumn}, ${h.chunkInterval} chunks)`);
  return pass(name, `${counted(alike.length, 'hypertable')} alike on both sides: ${listed(described)}`, details);
}

function withoutChunks({ chunks: _chunks, compressedChunks: _compressed, ...shape }: HypertableShape) {
  return shape;
}

function differs(what: string, a: string, b: string): { what: string; values: [string, string] } | undefined {
  return a === b ? undefined : { what, values: [a, b] };
}

/**
 * The columnstore (compression) settings of the hypertables both sides have. How many chunks are compressed is
 * reported, never held against either side: each server's columnstore policy compresses old chunks on its own
 * schedule (a restored copy or a migration target only when its job first runs), which changes where rows are
 * stored, not which rows there are; content parity reads them through either.
 */
export function compareCompression(sides: Sides, catalogs: Catalogs): CheckResult {
  const name = 'timescaledb parity: compression';
  const problems: string[] = [];
  const counts: string[] = [];
  const settled: string[] = [];
  for (const [table, a, b] of paired([catalogs[0].hypertables, catalogs[1].hypertables], (h) => h.table)) {
    if (!a || !b) continue; // named by the hypertables check
    const state = (h: HypertableShape) => (h.columnstore.enabled ? 'enabled' : 'not enabled');
    const differences = [
      differs('columnstore', state(a), state(b)),
      differs('segmentby', a.columnstore.segmentby || '(none)', b.columnstore.segmentby || '(none)'),
      differs('orderby', a.columnstore.orderby || '(none)', b.columnstore.orderby || '(none)'),
    ].filter((difference) => difference !== undefined);
    if (differences.length > 0) {
      problems.push(`${table}: ${differences.map((d) => `${d.what} ${bothSides(sides, d.values)}`).join(', ')}`);
    } else if (a.columnstore.enabled) {
      settled.push(`${table} segmentby ${a.columnstore.segmentby || '(none)'}, orderby ${a.columnstore.orderby}`);
    }
    if (a.compressedChunks !== b.compressedChunks) {
      const of = (h: HypertableShape) => `${h.compressedChunks} of ${h.chunks}`;
      counts.push(`${table} ${bothSides(sides, [of(a), of(b)])}`);
    }
  }
  const details = {
    compressedChunks: catalogs.map((catalog) =>
      Object.fromEntries(catalog.hypertables.map((h) => [h.table, { compressed: h.compressedChunks, of: h.chunks }])),
    ),
  };
  const note =
    counts.length === 0
      ? ''
      : `; compressed chunks differ (${counts.join('; ')}): not a difference in the data, each server's columnstore ` +
        'policy compresses on its own schedule';
  if (problems.length > 0) return fail(name, `${problems.join('; ')}${note}`, details);
  if (settled.length === 0)
    return pass(name, `no hypertable has the columnstore enabled on either side${note}`, details);
  return pass(name, `the same columnstore settings on both sides: ${listed(settled)}${note}`, details);
}

/** Which continuous aggregates exist, what each reads and computes (its definition) and its options. */
export function compareAggregateDefinitions(sides: Sides, catalogs: Catalogs): CheckResult {
  const name = 'timescaledb parity: continuous aggregates';
  const problems: string[] = [];
  const alike: string[] = [];
  for (const [view, a, b] of paired([catalogs[0].aggregates, catalogs[1].aggregates], (c) => c.view)) {
    const absent = missing(sides, view, [a, b]);
    if (absent) {
      problems.push(absent);
      continue;
    }
    const differences = aggregateDifferences(sides, a!, b!);
    if (differences.length === 0) alike.push(view);
    else problems.push(`${view}: ${differences.join(', ')}`);
  }
  const details = { aggregates: catalogs.map((catalog) => catalog.aggregates.map((c) => c.view)) };
  if (problems.length > 0) return fail(name, problems.join('; '), details);
  if (alike.length === 0) return pass(name, 'no continuous aggregates on either side', details);
  return pass(name, `${counted(alike.length, 'continuous aggregate')} defined alike: ${listed(alike)}`, details);
}

function aggregateDifferences(sides: Sides, a: AggregateShape, b: AggregateShape): string[] {
  const differences: string[] = [];
  if (a.source !== b.source) differences.push(`reads ${bothSides(sides, [a.source, b.source])}`);
  if (a.definition !== b.definition) differences.push(`the definitions differ (${firstDifference(sides, a, b)})`);
  if (a.materializedOnly !== b.materializedOnly) {
    differences.push(`materialized_only ${bothSides(sides, [String(a.materializedOnly), String(b.materializedOnly)])}`);
  }
  if (a.columnstore !== b.columnstore) {
    differences.push(`columnstore ${bothSides(sides, [String(a.columnstore), String(b.columnstore)])}`);
  }
  return differences;
}

/** The first line of the definitions that differs, on each side, trimmed: enough to see what changed. */
function firstDifference(sides: Sides, a: AggregateShape, b: AggregateShape): string {
  const [linesA, linesB] = [a.definition, b.definition].map((definition) => definition.split('\n'));
  const at = linesA!.findIndex((line, index) => line !== linesB![index]);
  const index = at === -1 ? linesA!.length : at;
  const line = (lines: string[]) => {
    const text = (lines[index] ?? '(end)').trim();
    return `"${text.length > 80 ? `${text.slice(0, 77)}...` : text}"`;
  };
  return bothSides(sides, [line(linesA!), line(linesB!)]);
}
