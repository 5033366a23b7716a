/**
 * Looks at a PDF the way a reader would: its text (pdftotext) and its first
 * page as an image (pdftoppm, PPM decoded here), to tell a page with charts
 * from a page of text.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasPoppler = existsSync('/usr/bin/pdftoppm') && existsSync('/usr/bin/pdftotext');

export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-pdf-'));
  try {
    writeFileSync(join(dir, 'a.pdf'), pdf);
    execFileSync('pdftotext', ['-layout', join(dir, 'a.pdf'), join(dir, 'a.txt')]);
    return readFileSync(join(dir, 'a.txt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PageImage {
  width: number;
  height: number;
  /** share of pixels with a clear hue (chart marks; text and borders are grey) */
  colouredShare: number;
  /** distinct colours, quantized to 5 bits per channel */
  colours: number;
}

export function firstPageImage(pdf: Buffer, dpi = 60): PageImage {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-pdf-'));
  try {
    writeFileSync(join(dir, 'a.pdf'), pdf);
    execFileSync('pdftoppm', ['-f', '1', '-l', '1', '-r', String(dpi), join(dir, 'a.pdf'), join(dir, 'p')]);
    const file = ['p-1.ppm', 'p-01.ppm', 'p-001.ppm'].map((f) => join(dir, f)).find(existsSync)!;
    const buf = readFileSync(file);
    // P6 <w> <h> <max>\n then RGB bytes
    const header = buf.subarray(0, 64).toString('latin1').match(/^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/);
    if (!header) throw new Error('pdftoppm did not write a binary PPM');
    const [, w, h] = header.map(Number) as [number, number, number, number];
    let off = header[0].length;
    let coloured = 0;
    const colours = new Set<number>();
    for (let i = 0; i < w * h; i++, off += 3) {
      const r = buf[off]!, g = buf[off + 1]!, b = buf[off + 2]!;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    }
    return { width: w, height: h, colouredShare: coloured / (w * h), colours: colours.size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
