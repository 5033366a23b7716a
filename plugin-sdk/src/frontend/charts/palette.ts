/**
 * Series colours: distinguishable for the common colour-vision deficiencies (an Okabe–Ito
 * derived set, softened to match the portal) and in a fixed order so a series keeps its
 * colour across charts.
 */
export const PALETTE = ['#3b6fd8', '#e69f00', '#2a9d8f', '#cc5a71', '#7b61c2', '#56b4e9', '#b8860b', '#6c757d'];
export const GOOD = '#2a9d8f';
export const WARN = '#e69f00';
export const BAD = '#cc5a71';
export const INK = '#1f2937';
export const MUTED = '#6b7280';
export const GRID = '#e5e7eb';
export const colorAt = (i: number) => PALETTE[i % PALETTE.length]!;
