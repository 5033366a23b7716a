/**
 * The chart kit's Plotly: plotly.js core plus exactly the trace types the specs in
 * `specs.ts` draw. The full prebuilt bundle (every trace, WebGL, maps) is ~4.5 MB; this
 * is a fraction of that. The build shares this module as a federation singleton
 * (`plugin-sdk/build/shared.mjs`), so the host and every remote register traces on one
 * Plotly instance and the browser fetches it once.
 *
 * A new chart kind whose spec emits another trace type must register it here, or Plotly
 * silently draws nothing for that trace.
 */
import Plotly from 'plotly.js/lib/core';
import bar from 'plotly.js/lib/bar';
import box from 'plotly.js/lib/box';
import heatmap from 'plotly.js/lib/heatmap';
import histogram from 'plotly.js/lib/histogram';
import indicator from 'plotly.js/lib/indicator';
import pie from 'plotly.js/lib/pie';
import sankey from 'plotly.js/lib/sankey';
// Month and day names on date axes follow the user's locale; a few KB each. Plotly falls
// back from a regional locale (de-CH) to its language (de), and to English when it has none.
import de from 'plotly.js/lib/locales/de';
import es from 'plotly.js/lib/locales/es';
import fr from 'plotly.js/lib/locales/fr';
import it from 'plotly.js/lib/locales/it';
import ja from 'plotly.js/lib/locales/ja';
import nl from 'plotly.js/lib/locales/nl';
import pl from 'plotly.js/lib/locales/pl';
import ptBr from 'plotly.js/lib/locales/pt-br';
import sv from 'plotly.js/lib/locales/sv';
import zhCn from 'plotly.js/lib/locales/zh-cn';

// scatter (line and area time series) is part of core and always registered.
Plotly.register([bar, box, heatmap, histogram, indicator, pie, sankey]);
Plotly.register([de, es, fr, it, ja, nl, pl, ptBr, sv, zhCn]);

export default Plotly;
