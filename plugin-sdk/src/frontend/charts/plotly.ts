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

// scatter (line and area time series) is part of core and always registered.
Plotly.register([bar, box, heatmap, histogram, indicator, pie, sankey]);

export default Plotly;
