// The house rules of actions/lib (see "The house" in the design notes): which room may import which.
// Checked by test/unit/layers.test.ts and by `npm run lint:layers`. Paths are relative to the folder the cruise
// runs from, so the same rules also run over test/fixtures/layers/, whose files break each rule on purpose.

/** Every engine: its own room, so one engine can change or be removed without touching another. */
const ENGINE_NAMES = 'postgres|qdrant|ticks|pgbackrest|files|embeddings';
const ENGINES = `(${ENGINE_NAMES})`;
const LIB = '^actions/lib/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'engines-stay-apart',
      comment:
        'An engine never imports another engine: what two engines share belongs in pg/, pipeline/ or ' +
        'another common room, so each engine can be understood, changed and dropped on its own.',
      severity: 'error',
      from: { path: `${LIB}${ENGINES}/` },
      to: { path: `${LIB}${ENGINES}/`, pathNot: `${LIB}$1/` },
    },
    {
      name: 'foundation-knows-no-engine',
      comment:
        'storage/, crypto/ and manifest/ sit under everything else; if they knew an engine, integrity, the ' +
        'pipeline or the report, every new engine or check would ripple down into the foundation.',
      severity: 'error',
      from: { path: `${LIB}(storage|crypto|manifest)/` },
      to: { path: `${LIB}(${ENGINE_NAMES}|integrity|pipeline|report)/` },
    },
    {
      name: 'pg-knows-no-engine',
      comment:
        'pg/ holds the PostgreSQL basics any engine may use; if it imported an engine, that engine would leak ' +
        'into every other engine through pg/.',
      severity: 'error',
      from: { path: `${LIB}pg/` },
      to: { path: `${LIB}${ENGINES}/` },
    },
    {
      name: 'catalog-knows-no-engine',
      comment:
        'catalog/ mirrors manifests and drill records into backstop.backup_logs for every engine alike; it stands on ' +
        'pg/ and manifest/ only, so a new engine gets its rows without the catalog learning about it.',
      severity: 'error',
      from: { path: `${LIB}catalog/` },
      to: { path: `${LIB}(${ENGINE_NAMES}|integrity|pipeline|report)/` },
    },
    {
      name: 'storage-is-ground-floor',
      comment:
        'storage/ is the ground floor: besides itself it uses only Node and the AWS SDK, so the stores can be ' +
        'tested, reused and reasoned about without the rest of the library.',
      severity: 'error',
      from: { path: `${LIB}storage/` },
      to: {
        pathNot: [`${LIB}storage/`, '(^|/)node_modules/@aws-sdk/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'action-port-stays-thin',
      comment:
        'action/ is the port every action and the CLI stand on (runtime, inputs, steps, errors); it may use ' +
        'only storage/ and the root files (format, process, version). Anything more would make every capability ' +
        'a dependency of every action.',
      severity: 'error',
      from: { path: `${LIB}action/` },
      to: {
        path: LIB,
        pathNot: [`${LIB}(action|storage)/`, `${LIB}[^/]+[.]ts$`],
      },
    },
    {
      name: 'lib-never-imports-an-action',
      comment:
        "The library serves the actions, never the other way round: an action's src/ is its thin entry " +
        '(inputs, wiring), and code another action or the CLI needs belongs in actions/lib/.',
      severity: 'error',
      from: { path: LIB },
      to: { path: '^actions/[^/]+/src/' },
    },
    {
      name: 'imports-resolve',
      comment:
        'An import the cruise cannot follow to a file escapes every rule above (its target is no path), so a ' +
        'broken resolver setup would pass silently; the compiler catches real typos, this catches the checker.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment:
        'A cycle makes two modules one module in disguise: neither can be read, tested or moved alone, and ' +
        'module load order starts to matter.',
      severity: 'error',
      from: { path: '^actions/' },
      to: { circular: true },
    },
  ],
  options: {
    // The bundles are ncc output, not source; node_modules is looked at (to name the package) but not entered.
    exclude: { path: '^actions/[^/]+/dist/' },
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from another room is still knowledge of that room.
    tsPreCompilationDeps: true,
    // The imports spell out `.ts` (tsconfig's rewriteRelativeImportExtensions); the tsconfig makes the TypeScript
    // parser read them as the compiler does.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    skipAnalysisNotInRules: true,
  },
};
