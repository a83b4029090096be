import type { Runtime } from '../../lib/action/runtime.ts';
import { backfillEmbeddings } from '../../lib/embeddings/index.ts';
import { connect } from '../../lib/pg/connection.ts';
import { qdrantPointStore } from '../../lib/qdrant/points.ts';
import { readInputs } from './inputs.ts';
import { backfillSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type BackfillEmbeddingsOutput = 'embedded' | 'skipped' | 'deleted' | 'tokens';

/** backfill-embeddings: inputs → the backfill (PostgreSQL rows → embedder → Qdrant) → outputs and summary. */
export async function run(runtime: Runtime<BackfillEmbeddingsOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  const db = await connect(inputs.database);
  try {
    const result = await backfillEmbeddings({
      ...inputs,
      db,
      store: qdrantPointStore(inputs.qdrant),
      log: (line) => runtime.info(line),
      notice: (line) => runtime.notice(line),
    });
    const total = (field: 'embedded' | 'skipped' | 'deleted' | 'tokens') =>
      result.sources.reduce((sum, source) => sum + source[field], 0);
    runtime.setOutput('embedded', total('embedded'));
    runtime.setOutput('skipped', total('skipped'));
    runtime.setOutput('deleted', total('deleted'));
    runtime.setOutput('tokens', total('tokens'));
    runtime.info(
      `Backfill complete: ${total('embedded')} embedded, ${total('skipped')} skipped (unchanged), ` +
        `${total('deleted')} deleted, ${total('tokens')} tokens, with the ${result.embedder}.`,
    );
    await runtime.writeSummary(backfillSummary(result, inputs.database.display, inputs.qdrant.url));
  } finally {
    await db.end().catch(() => undefined);
  }
}
