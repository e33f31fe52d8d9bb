// Parses every ```mermaid block of the Markdown files named on the command
// line with Mermaid's own parser; prints one line per diagram and exits 1 if
// any does not parse.
import { readFileSync } from 'node:fs';
import mermaid from 'mermaid';

let failed = 0;
let parsed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) {
    console.log(`${file}: no diagram`);
    failed += 1;
  }
  for (const [i, block] of blocks.entries()) {
    try {
      const result = await mermaid.parse(block);
      parsed += 1;
      console.log(`${file}#${i + 1}: ${result.diagramType}`);
    } catch (error) {
      failed += 1;
      console.log(`${file}#${i + 1}: ${String(error.message ?? error).split('\n').slice(0, 4).join(' | ')}`);
    }
  }
}
console.log(`${parsed} diagram(s) parsed, ${failed} failure(s)`);
process.exit(failed === 0 ? 0 : 1);
