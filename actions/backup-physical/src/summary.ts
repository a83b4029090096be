import { formatBytes, formatSeconds, markdownTable } from '../../lib/format.ts';
import type { PhysicalBackupResult } from '../../lib/pgbackrest/backup.ts';
import type { Store } from '../../lib/storage/index.ts';

export function physicalSummary(result: PhysicalBackupResult, stores: Store[]): string {
  const { manifest, typeReason } = result;
  const record = manifest.pgbackrest!;
  return `${[
    `## ✅ Physical backup ${manifest.id}`,
    '',
    markdownTable(
      ['', ''],
      [
        [
          'pgBackRest set',
          `\`${record.label}\` (${record.type}${record.prior ? ` on ${record.prior}` : ''}; ${typeReason})`,
        ],
        [
          'Server',
          `PostgreSQL ${manifest.source.serverVersion} on ${manifest.source.host}, pgBackRest ${record.pgbackrestVersion}`,
        ],
        ['Consistent from', `${record.stoppedAt} (LSN ${record.lsn.start} → ${record.lsn.stop})`],
        ['WAL', `${record.wal.start ?? '?'} → ${record.wal.stop ?? '?'}`],
        [
          'Size',
          `${formatBytes(record.sizeBytes)} cluster, ${formatBytes(record.deltaBytes)} copied → ` +
            `${formatBytes(record.repoDeltaBytes)} stored (zstd${record.cipher === 'none' ? '' : `, ${record.cipher}`})`,
        ],
        ['Time', `${formatSeconds(manifest.durationSeconds)} (verify ${formatSeconds(result.verifySeconds)})`],
        ['Encryption', record.cipher === 'none' ? '⚠️ none (allow-unencrypted)' : record.cipher],
        ['Repository', record.repo],
        ['Manifest', stores.map((store) => store.displayUrl).join('<br>')],
      ],
    ),
  ].join('\n')}\n`;
}
