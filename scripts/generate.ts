import fs from 'node:fs';
import path from 'node:path';
import { generatedFiles, ROOT, sqlFiles } from './action-files.ts';

/** npm run generate: writes every action.yml and the README tables from the action descriptors, and sql/. */
let written = 0;
for (const file of [...generatedFiles(), ...sqlFiles()]) {
  if (fs.existsSync(file.path) && fs.readFileSync(file.path, 'utf8') === file.content) continue;
  fs.writeFileSync(file.path, file.content);
  written += 1;
  console.log(`wrote ${path.relative(ROOT, file.path)}`);
}
console.log(written === 0 ? 'every generated file was already up to date' : `${written} file(s) written`);
