import type { Manifest } from '../../lib/manifest/schema.ts';
import type { DrillRecordBase } from '../../lib/manifest/drills.ts';
import { rowCountMatches, type DrillRecord } from '../../lib/postgres/drill.ts';
import { drillVerdict } from '../../lib/postgres/restore-plan.ts';
import type { Restored } from '../../lib/postgres/security.ts';
import type { Tally } from '../../lib/postgres/timescale.ts';
import type { QdrantDrillRecord } from '../../lib/qdrant/recover.ts';
import type { PitrDrillRecord } from '../../lib/pgbackrest/drill.ts';
import { formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';

function checksumVerdict(record: DrillRecordBase): string {
  if (record.checksumsVerified) return '✅ sha256 of every file matches the manifest';
  if (record.problems.some((problem) => problem.startsWith('Checksum mismatch'))) return '❌ mismatch (see problems)';
  return '⚠️ not every file was read (see problems)';
}

export function postgresDrillSummary(record: DrillRecord, manifest: Manifest, source: string): string {
  const verdict = record.verified ? `✅ ${drillVerdict(record)}` : '❌ NOT verified';
  const lines = [
    `## ${verdict}: restore drill of ${record.backupId}${record.dryRun ? ' (dry run)' : ''}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Backup', `${manifest.name} / ${manifest.id} (${manifest.kind}), PostgreSQL ${manifest.source.serverVersion}`],
        ['Read from', source],
        ['Backup age', `${record.backupAgeHours.toFixed(1)} h`],
        ['Restored into', record.target],
        [record.dryRun ? 'Verify time' : 'Restore time (RTO)', formatSeconds(record.restoreSeconds)],
        ['Checksums', checksumVerdict(record)],
        ...(record.dryRun
          ? [['Archive', `${record.tocEntries ?? 0} entries listed by pg_restore`]]
          : [
              [
                'Row counts',
                `${record.tables.filter(rowCountMatches).length} of ${record.tables.length} tables ` +
                  `match the manifest`,
              ],
              ...(record.timescaledb ? [[`TimescaleDB ${record.timescaledb.version}`, timescaleLine(record)]] : []),
              ...accessRows(record, manifest),
            ]),
      ],
    ),
  ];
  const leftOut = record.leftOut ?? [];
  if (leftOut.length > 0) {
    const extensions = [...new Set(leftOut.map((item) => item.extension))].join(', ');
    lines.push(
      '',
      `### Not restorable here: ${leftOut.length} provider object${leftOut.length === 1 ? '' : 's'}`,
      '',
      `The target lacks ${extensions}; everything else was restored. Drill into a server that has ` +
        `${leftOut.length === 1 ? 'it' : 'them'} (for Supabase, the supabase/postgres image of the same major ` +
        'version) for full fidelity.',
      '',
      ...leftOut.map((item) => `- ${item.entry} (needs ${item.extension})`),
    );
  }
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  const mismatched = record.tables.filter((table) => !rowCountMatches(table));
  if (mismatched.length > 0) {
    lines.push(
      '',
      markdownTable(
        ['Table', 'Manifest', 'Restored'],
        mismatched.map((t) => [
          `${t.schema}.${t.name}`,
          `${t.atLeast ? '≥ ' : ''}${formatCount(t.expected)}`,
          t.actual === null ? 'missing' : formatCount(t.actual),
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** How many of the manifest's TimescaleDB objects the restored database matches (the problems name the others). */
function timescaleLine(record: DrillRecord): string {
  const check = record.timescaledb!;
  const mark = (tally: Tally): string => (tally.matching === tally.expected ? '✅' : '❌');
  const part = (tally: Tally, what: string): string => `${mark(tally)} ${tally.matching} of ${tally.expected} ${what}`;
  return (
    `${part(check.hypertables, 'hypertables')}, ${part(check.continuousAggregates, 'continuous aggregates')}, ` +
    `${part(check.jobs, 'policy jobs')} match the manifest` +
    (check.definitionsCompared ? '' : ' (view definitions not compared: another PostgreSQL major)')
  );
}

/** Roles, owners and grants, and the RLS validation: what makes the restored database behave like the source. */
function accessRows(record: DrillRecord, manifest: Manifest): string[][] {
  const rows: string[][] = [];
  const roles = record.roles;
  if (roles) {
    const created = roles.created.length > 0 ? `created ${roles.created.join(', ')} (NOLOGIN, no password)` : '';
    const existing = roles.existing.length > 0 ? `${roles.existing.length} already there, left as they were` : '';
    rows.push(['Roles', [`${roles.inBackup} in the backup`, created, existing].filter(Boolean).join('; ')]);
    if (roles.notApplied.length > 0) rows.push(['Not applied', roles.notApplied.join('<br>')]);
  }
  const security = record.security;
  if (security?.privileges) {
    const parts = [
      restoredOf(security.grants, 'grants'),
      restoredOf(security.defaultPrivileges, 'default privileges'),
      restoredOf(security.schemaOwners, 'schema owners'),
    ];
    rows.push(['Owners and grants', parts.filter(Boolean).join(', ')]);
  } else if (security || record.roles === null) {
    rows.push([
      'Owners and grants',
      record.roles === null
        ? '⚠️ not restored: this backup has no roles file (made by an older Backstop); --no-owner --no-acl'
        : '⚠️ not restored (privileges: false): --no-owner --no-acl, everything is owned by the restoring user and ' +
          'no grant was restored',
    ]);
  }
  if (security) {
    const icon = security.rlsValidation === 'passed' ? '✅' : '❌';
    rows.push([
      'RLS validation',
      `${icon} ${restoredOf(security.rlsTables, 'tables with row level security')}, ` +
        `${restoredOf(security.policies, 'policies')}`,
    ]);
  }
  if (manifest.source.provider) rows.push(['Provider', manifest.source.provider]);
  return rows;
}

function restoredOf(count: Restored | null, what: string): string {
  if (!count) return '';
  return `${formatCount(count.restored)} of ${formatCount(count.expected)} ${what}`;
}

export function qdrantDrillSummary(record: QdrantDrillRecord, manifest: Manifest, source: string): string {
  const verdict = record.verified ? '✅ verified' : '❌ NOT verified';
  const what = record.mode === 'restore' ? 'restore' : 'restore drill';
  const lines = [
    `## ${verdict}: Qdrant ${what} of ${record.backupId}${record.dryRun ? ' (dry run)' : ''}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Backup', `${manifest.name} / ${manifest.id} (${manifest.kind}), Qdrant ${manifest.source.serverVersion}`],
        ['Read from', source],
        ['Backup age', `${record.backupAgeHours.toFixed(1)} h`],
        ['Recovered into', record.target],
        [record.dryRun ? 'Verify time' : 'Recovery time (RTO)', formatSeconds(record.restoreSeconds)],
        ['Checksums', checksumVerdict(record)],
      ],
    ),
    '',
    markdownTable(
      ['Collection', 'Recovered as', 'Points (manifest)', 'Points (recovered)', 'Vectors config'],
      record.collections.map((c) => [
        c.name,
        c.restoredAs + (record.mode === 'drill' && !record.dryRun ? ' (deleted after)' : ''),
        formatCount(c.expectedPoints),
        c.actualPoints === null ? '—' : formatCount(c.actualPoints),
        c.vectorsMatch === null ? '—' : c.vectorsMatch ? '✅ same' : '❌ differs',
      ]),
    ),
  ];
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  return `${lines.join('\n')}\n`;
}

/** plan-only: which backup a later job will restore, and what it needs (no bytes were fetched). */
export function planSummary(manifest: Manifest, source: string): string {
  const extensions = (manifest.source.extensions ?? [])
    .map((extension) => `${extension.name} ${extension.version}`)
    .join(', ');
  const lines = [
    `### 🗺️ Planned: ${manifest.name}/${manifest.id}`,
    '',
    `${manifest.engine} ${manifest.source.serverVersion}, taken ${manifest.createdAt}, from ${source}.`,
    ...(extensions ? ['', `Extensions: ${extensions}.`] : []),
    '',
    'Nothing was downloaded or restored (plan-only).',
  ];
  return `${lines.join('\n')}\n`;
}

/** How far a recovery could go when the drill ran: the newest segment in the repository, and how old it was. */
function newestWal(record: PitrDrillRecord): string {
  if (!record.newestWal) return '— (none archived)';
  const minutes = (Date.parse(record.startedAt) - Date.parse(record.newestWal.archivedAt)) / 60_000;
  const age = minutes > 0 ? `, ${minutes.toFixed(1)} min before the drill started` : '';
  return `${record.newestWal.segment}, archived ${record.newestWal.archivedAt}${age}`;
}

/** A point-in-time drill: target, where recovery stopped, the RTO, and how much WAL it took. */
export function pitrDrillSummary(record: PitrDrillRecord, manifest: Manifest, source: string): string {
  const physical = manifest.pgbackrest!;
  const verdict = record.verified ? '✅ recovered and verified' : '❌ NOT verified';
  const verifySql = record.verifySqlResult === null ? 'not given' : record.verifySqlResult ? '✅ true' : '❌ false';
  const lines = [
    `## ${verdict}: point-in-time drill of ${record.backupId}`,
    '',
    markdownTable(
      ['', ''],
      [
        [
          'Base backup',
          `${manifest.id}: pgBackRest \`${physical.label}\` (${physical.type}), consistent from ${physical.stoppedAt}`,
        ],
        ['Read from', `${source} (repository ${physical.repo})`],
        ['Target', record.toTime ?? 'the end of the base backup (no to-time)'],
        ['Recovered to', `${record.recoveredTo ?? '—'} (last replayed transaction)`],
        ['Recovery stopped', record.recoveryStop ?? '—'],
        ['WAL replayed', `${formatCount(record.walReplayed)} segments from the archive`],
        ['Newest archived WAL (RPO)', newestWal(record)],
        ['Restore + recovery (RTO)', formatSeconds(record.restoreSeconds)],
        ['verify-sql', verifySql],
        ['Restored into', record.target],
      ],
    ),
  ];
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  return `${lines.join('\n')}\n`;
}
