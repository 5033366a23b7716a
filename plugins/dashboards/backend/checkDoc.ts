/** Checks a dashboard document beyond its JSON schema: size, unique cell ids, the 12-column grid. */
import { badRequest } from '@orrery/plugin-sdk';
import { docSchema } from '../answers.ts';
import type { Doc } from './store.ts';

const MAX_BYTES = 256 * 1024;

export const docBody = { type: 'object', required: ['doc'], properties: { doc: docSchema }, additionalProperties: false };

export function checkDoc(doc: Doc, field = 'doc'): Doc {
  if (JSON.stringify(doc).length > MAX_BYTES) throw badRequest(`a dashboard may hold at most ${MAX_BYTES} bytes of JSON`, { field });
  const ids = new Set<string>();
  for (const [n, it] of (doc.items as Array<{ i: string; x: number; w: number }>).entries()) {
    if (ids.has(it.i)) throw badRequest(`cell id "${it.i}" appears twice`, { field: `${field}.items.${n}.i` });
    ids.add(it.i);
    if (it.x + it.w > 12) throw badRequest(`cell "${it.i}" runs past the 12th column (x ${it.x} + w ${it.w})`, { field: `${field}.items.${n}.w` });
  }
  return doc;
}

