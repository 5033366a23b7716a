/**
 * Cells of an RFC 4180 CSV file and of a JSON text, written by hand so that a
 * page of rows becomes one string without an intermediate object per cell.
 */

/** A text cell a spreadsheet would read as a formula (API.md: `=`, `+`, `-`, `@`, tab, CR) gets a leading `'`. */
const FORMULA_START = /^[=+\-@\t\r]/;

export function guardFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** A text cell: guarded, and quoted when it holds a comma, a quote, CR or LF (quotes doubled). */
export function csvText(text: string): string {
  const v = guardFormula(text);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One CSV record, CRLF-terminated as RFC 4180 says. */
export const csvRecord = (cells: string[]) => `${cells.join(',')}\r\n`;
