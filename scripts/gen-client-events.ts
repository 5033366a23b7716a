/**
 * Writes plugin-sdk/src/client/events.ts from the event catalogue
 * (plugin-sdk/src/events/catalog.ts). Run after changing the catalogue:
 *
 *   npx tsx scripts/gen-client-events.ts          # writes the file
 *   npx tsx scripts/gen-client-events.ts --check  # exits 1 when the file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderClientEventTypes } from '../plugin-sdk/src/events/clientTypes.ts';

const target = fileURLToPath(new URL('../plugin-sdk/src/client/events.ts', import.meta.url));
const text = renderClientEventTypes();
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error(`${target} is stale: run npx tsx scripts/gen-client-events.ts`);
    process.exit(1);
  }
  console.log(`${target} matches the catalogue`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
