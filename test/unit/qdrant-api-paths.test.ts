import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.ts';

/**
 * actions/lib/qdrant/api.ts is the one place that spells a Qdrant endpoint path; everything else calls its typed
 * functions. This holds every other source file under actions/ (the library and each action's src/, never the
 * bundles) to that, by reading the string and template literals the TypeScript parser finds: comments and import
 * specifiers (`./cluster.ts`) are not endpoints.
 */
const API_FILE = 'actions/lib/qdrant/api.ts';

/** Qdrant's top-level routes (OpenAPI v1.19), less /metrics and /issues, which other HTTP APIs share. */
const QDRANT_ROUTE = /\/(?:collections|aliases|snapshots|cluster|telemetry|healthz|readyz|livez|locks)\b/;

interface Hit {
  line: number;
  text: string;
}

function isModuleSpecifier(node: ts.Node): boolean {
  const parent = node.parent;
  const declaration = ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent);
  if (declaration && parent.moduleSpecifier === node) return true;
  if (ts.isExternalModuleReference(parent)) return true;
  if (ts.isLiteralTypeNode(parent) && ts.isImportTypeNode(parent.parent)) return true;
  return ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword;
}

function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) return node.text;
  return undefined;
}

/** The literals (whole strings, or the fixed pieces of a template) in a source text that name a Qdrant route. */
function endpointLiterals(fileName: string, text: string): Hit[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const hits: Hit[] = [];
  const visit = (node: ts.Node): void => {
    const literal = literalText(node);
    if (literal !== undefined && !isModuleSpecifier(node) && QDRANT_ROUTE.test(literal)) {
      hits.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: literal });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hits;
}

/** Every .ts file under actions/, relative to the repository, without the bundles (dist/). */
function sourceFiles(): string[] {
  return fs
    .readdirSync(path.join(ROOT, 'actions'), { recursive: true, encoding: 'utf8' })
    .map((file) => path.posix.join('actions', file.split(path.sep).join('/')))
    .filter((file) => file.endsWith('.ts'))
    .filter((file) => !file.split('/').some((part) => part === 'dist' || part === 'node_modules'));
}

function hitsIn(file: string): string[] {
  const hits = endpointLiterals(file, fs.readFileSync(path.join(ROOT, file), 'utf8'));
  return hits.map((hit) => `${file}:${hit.line} ${hit.text}`);
}

describe('Qdrant endpoint paths', () => {
  it('are spelled in qdrant/api.ts only', () => {
    const files = sourceFiles();
    expect(files).toContain(API_FILE);
    expect(files.filter((file) => file !== API_FILE).flatMap(hitsIn)).toEqual([]);
  });

  it('are found in qdrant/api.ts itself (so finding none elsewhere means something)', () => {
    const hits = endpointLiterals(API_FILE, fs.readFileSync(path.join(ROOT, API_FILE), 'utf8'));
    const expected = ['/collections', '/aliases', '/collections/aliases'];
    expect(hits.map((hit) => hit.text)).toEqual(expect.arrayContaining(expected));
  });

  it('are found in strings and template pieces, not in comments or import specifiers', () => {
    const text = [
      "import { startScratchCluster } from '../postgres/cluster.ts';",
      '// GET /collections/{name} lists nothing here',
      'const info = (name: string) => `${base}/collections/${name}`;',
      "const all = '/aliases';",
      'const label = "snapshots/of/trades";',
      "type Route = '/collections/{name}/cluster';",
    ].join('\n');
    expect(endpointLiterals('sample.ts', text)).toEqual([
      { line: 3, text: '/collections/' },
      { line: 4, text: '/aliases' },
      { line: 6, text: '/collections/{name}/cluster' },
    ]);
  });
});
