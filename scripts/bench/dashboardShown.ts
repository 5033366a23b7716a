/**
 * The test of "every widget shows its data" that the dashboard benches inject into the page
 * (one definition, so `dashboard.ts` and `dashboard-ab.ts` measure the same moment): `n`
 * widget cells, none loading, each with text, a chart, an svg or a table, and every visible
 * plotly chart drawn by plotly (not only its screen-reader table). Sets
 * `window.__benchShown` to the page's clock when it first holds; with `n` = 0 the dashboard's
 * empty state is awaited instead.
 * A string, not a function: a function's compiled form would call the build's helpers.
 */
export function shownScript(n: number): string {
  return `(() => {
    const n = ${n};
    const shown = () => {
      if (n === 0) return !!document.body && document.body.textContent.includes('Your dashboard is empty');
      const cells = [...document.querySelectorAll('section.cell')];
      return cells.length >= n && cells.every((c) => {
        const body = c.querySelector('.cell__body');
        return body && !body.querySelector('.orrery-state--loading') && body.textContent.trim().length + body.querySelectorAll('svg, canvas, table').length > 0
          && [...body.querySelectorAll('.orrery-chart__plot')].every((p) => p.style.display === 'none' || p.querySelector('.main-svg'));
      });
    };
    const check = () => { if (shown()) window.__benchShown = performance.now(); else requestAnimationFrame(check); };
    requestAnimationFrame(check);
  })();`;
}
