import { describe, expect, it } from 'vitest';
import { STATE_TONES, STATE_WORDS } from '../frontend/src/pages/ui.tsx';

describe('alert state badges', () => {
  it('give every state a word and a tone; only firing and errors read as bad', () => {
    expect(Object.keys(STATE_TONES).sort()).toEqual(Object.keys(STATE_WORDS).sort());
    expect(Object.entries(STATE_TONES).filter(([, t]) => t === 'bad').map(([s]) => s).sort()).toEqual(['error', 'firing']);
  });
});
