import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ACTIONS } from '../actions/cli/src/commands.ts';
import type { ActionDescriptor, InputSpec } from '../actions/lib/action/descriptor.ts';
import { catalogSqlFile } from '../actions/lib/catalog/ddl.ts';
import { seedDdlFiles } from '../actions/lib/ticks/ddl.ts';

/**
 * The files generated from the action descriptors (actions/<name>/src/action.ts): each action.yml, and the input
 * and output tables of each README; and the tick shapes in sql/. `npm run generate` writes them; a unit test fails
 * when a committed one differs.
 */
export const ROOT = path.resolve(import.meta.dirname, '..');

const BEGIN = (table: string): string =>
  `<!-- BEGIN GENERATED ${table} table: edit src/action.ts, then npm run generate -->`;
const END = '<!-- END GENERATED -->';

export interface GeneratedFile {
  path: string;
  content: string;
}

export function generatedFiles(actions: ActionDescriptor[] = ACTIONS): GeneratedFile[] {
  return actions.flatMap((action) => {
    const dir = path.join(ROOT, 'actions', action.name);
    const readme = path.join(dir, 'README.md');
    return [
      { path: path.join(dir, 'action.yml'), content: actionYml(action) },
      { path: readme, content: withTables(fs.readFileSync(readme, 'utf8'), action) },
    ];
  });
}

/** The tick shapes (the DDL migrate-ticks sends) and sql/catalog/backup_logs.sql (the DDL catalog-url runs). */
export function sqlFiles(): GeneratedFile[] {
  return [...seedDdlFiles(), catalogSqlFile()].map((file) => ({
    path: path.join(ROOT, file.path),
    content: file.content,
  }));
}

/** action.yml as GitHub reads it: the descriptor's texts, required flags and fixed defaults, runs on node24. */
export function actionYml(action: ActionDescriptor): string {
  const inputs: Record<string, { description: string; required?: true; default?: string }> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    assertNoExpression(action.name, name, spec.description);
    const ymlDefault = spec.runnerDefault ?? spec.default;
    inputs[name] = {
      description: spec.description,
      ...(spec.required ? { required: true } : {}),
      ...(ymlDefault !== undefined ? { default: ymlDefault } : {}),
    };
  }
  const outputs: Record<string, { description: string }> = {};
  for (const [name, spec] of Object.entries(action.outputs)) {
    assertNoExpression(action.name, name, spec.description);
    outputs[name] = { description: spec.description };
  }
  const document = {
    name: `Backstop ${action.name}`,
    description: action.description,
    author: 'Backstop',
    branding: action.branding,
    inputs,
    outputs,
    runs: { using: 'node24', main: 'dist/index.js' },
  };
  const header = `# Generated from src/action.ts by \`npm run generate\`: edit the descriptor, not this file.\n`;
  return header + stringify(document, { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' });
}

/** GitHub evaluates `${{ }}` inside action.yml descriptions and then fails to load the action. */
function assertNoExpression(action: string, name: string, text: string): void {
  if (text.includes('${{'))
    throw new Error(`${action}: the description of ${name} holds a \${{ }} expression; put it in docs instead.`);
}

function inputsTable(action: ActionDescriptor): string {
  const rows = Object.entries(action.inputs).map(
    ([name, spec]) => `| \`${name}\` | ${defaultCell(spec)} | ${cell(spec.docs ?? spec.description)} |`,
  );
  return ['| input | default | what it is |', '|---|---|---|', ...rows].join('\n');
}

function outputsTable(action: ActionDescriptor): string {
  const rows = Object.entries(action.outputs).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.docs ?? spec.description)} |`,
  );
  return ['| output | |', '|---|---|', ...rows].join('\n');
}

function defaultCell(spec: InputSpec): string {
  if (spec.required) return 'required';
  if (spec.defaultLabel) return spec.defaultLabel;
  if (spec.default !== undefined && spec.default !== '') return `\`${spec.default}\``;
  return '—';
}

function cell(text: string): string {
  return text.replace(/\n/g, ' ');
}

/** The README with its two generated tables replaced (the text around them is the README's own). */
export function withTables(readme: string, action: ActionDescriptor): string {
  return replaceTable(
    replaceTable(readme, 'inputs', inputsTable(action), action.name),
    'outputs',
    outputsTable(action),
    action.name,
  );
}

function replaceTable(readme: string, table: string, content: string, actionName: string): string {
  const begin = readme.indexOf(BEGIN(table));
  const end = readme.indexOf(END, begin);
  if (begin < 0 || end < 0)
    throw new Error(`actions/${actionName}/README.md has no generated ${table} table (markers missing).`);
  return `${readme.slice(0, begin)}${BEGIN(table)}\n${content}\n${readme.slice(end)}`;
}

export const MARKERS = { BEGIN, END };
