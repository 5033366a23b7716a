/**
 * Trends: moving averages, forecasts with prediction intervals and a backtest, anomalies that
 * account for seasonality, and multivariate anomalies over agents (API.md → "Trends"). The
 * models are pure functions in ./models; the routes read series through the metrics plugin's
 * service, and the `trendsRef` service offers the same models to other plugins. See README.md.
 */
import { definePlugin, metricsQueryRef, need, provide, trendsRef } from '@orrery/plugin-sdk';
import { READ } from './permissions.ts';
import { trendsService } from './service.ts';
import { registerSeriesRoutes } from './routes/series.ts';
import { registerAgentRoutes } from './routes/agents.ts';
import { registerGrowthRoutes } from './routes/growth.ts';
import { widgets } from '../widgets.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'trends',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Trends',
  description: 'Moving averages, forecasts with intervals and backtests, seasonal and multivariate anomaly detection over any metric',
  routePrefix: 'trends',
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'] },
  provides: [provide(trendsRef, () => trendsService)],
  // every series is a metrics query: the metrics plugin answers it
  needs: [need(metricsQueryRef, '^1.0.0')],
  frontend: { remoteName: 'trends', distDir: './frontend/dist', widgets },
  register(env) {
    registerSeriesRoutes(env);
    registerAgentRoutes(env);
    registerGrowthRoutes(env);
  },
});
