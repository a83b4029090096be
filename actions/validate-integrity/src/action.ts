import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type ValidateIntegrityOutput } from './main.ts';

/**
 * validate-integrity: the one place its contract is written (action.yml and the README's tables are generated from it).
 */
export default defineAction<ValidateIntegrityOutput>({
  name: 'validate-integrity',
  description:
    'Prove that databases, the vector store and the backups agree - row counts, content parity by range with ' +
    'bisection, schema, grants and RLS parity, TimescaleDB parity (hypertables, compression, continuous aggregates, ' +
    'jobs), foreign keys, embeddings, TimescaleDB shape, backup freshness, custom SQL.',
  branding: { icon: 'check-circle', color: 'green' },
  inputs: documented(INPUTS, {
    'database-url': { docs: 'the database checked (masked)' },
    'compare-url': {
      docs: 'a database that must hold the same data and schema (masked): the parity checks; TimescaleDB too when both have it',
    },
    config: { docs: 'the YAML file above' },
    'qdrant-url': { docs: 'for embeddings checks' },
    'qdrant-api-key': { docs: 'for embeddings checks' },
    'storage-url': {
      docs:
        'for backup freshness checks, and the capacity check of every destination: a local one fails at ' +
        "`max-disk-percent` of its filesystem or when the next backups (each name's newest × 1.2) do not fit " +
        'its free bytes; an S3 one sums the bytes under each name against `storage-quota-bytes`',
    },
    'max-disk-percent': {
      docs: 'capacity: a local destination filesystem (Use% as `df` shows it), a storage quota or the database quota this full fails',
    },
    'storage-quota-bytes': {
      docs: 'capacity: what the backups may take under each S3 destination (all names); unset: usage is only reported',
    },
    'database-quota-bytes': {
      docs: 'capacity: the database plan’s size; `pg_database_size` at `max-disk-percent` of it fails; unset: not checked',
    },
    'fail-on': { docs: '`error`, `warning` or `never`' },
    'report-path': { docs: 'the JSON report' },
  }),
  outputs: {
    passed: { description: "true when no check failed (by fail-on's rule)." },
    failures: { description: "How many checks failed (by fail-on's rule)." },
    'report-path': { description: 'Path of the JSON report (every check, its finding and details).' },
  },
  run,
});
