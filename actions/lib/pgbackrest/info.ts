import { explainFailure, pgbackrest, type Pgbackrest } from './command.ts';

/** One backup set as `pgbackrest info --output=json` describes it (the fields Backstop reads). */
export interface BackupSet {
  label: string;
  type: 'full' | 'diff' | 'incr';
  prior: string | null;
  error?: boolean;
  archive: { start: string | null; stop: string | null };
  backrest: { version: string };
  database: { id: number };
  info: { size: number; delta: number; repository: { size: number; delta: number } };
  lsn: { start: string; stop: string };
  /** Unix seconds. */
  timestamp: { start: number; stop: number };
}

export interface StanzaInfo {
  name: string;
  status: { code: number; message: string };
  cipher: string;
  db: { id: number; 'system-id': number; version: string }[];
  archive: { id: string; min: string | null; max: string | null }[];
  backup: BackupSet[];
}

export async function stanzaInfo(tool: Pgbackrest): Promise<StanzaInfo> {
  const out = await pgbackrest(tool, 'info', ['--output=json']);
  let stanzas: StanzaInfo[];
  try {
    stanzas = JSON.parse(out) as StanzaInfo[];
  } catch {
    // pgBackRest quotes an info file it could not read, noise and all, into its JSON.
    throw explainFailure(tool, 'info', out);
  }
  const info = stanzas.find((stanza) => stanza.name === tool.stanza);
  if (!info) throw new Error(`pgbackrest info did not describe stanza ${tool.stanza}.`);
  // 0 ok, 2 no backup yet; anything else (a missing stanza, a passphrase that decrypts nothing) says why only in
  // the text form, which names the error.
  if (info.status.code !== 0 && info.status.code !== 2) {
    throw explainFailure(tool, 'info', `${info.status.message}: ${await pgbackrest(tool, 'info')}`);
  }
  return info;
}

export function backupSet(info: StanzaInfo, label: string): BackupSet | undefined {
  return info.backup.find((set) => set.label === label);
}

export function isoOf(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
