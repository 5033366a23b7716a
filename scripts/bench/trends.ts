/**
 * Trends: the models' speed on the sizes issue #21 names.
 *
 *   npx tsx scripts/bench/trends.ts                 # 20 timed runs each
 *   BENCH_RUNS=50 npx tsx scripts/bench/trends.ts
 *
 * 1. A forecast over two years of daily points (730, trend + weekly season + noise), horizon
 *    30: season detection, model choice on the rolling-origin holdout (the Holt-Winters grid),
 *    intervals and the backtest — what `POST /api/v1/trends/forecast` runs after the metrics
 *    query. Goal < 200 ms. Baseline in the same run: the seasonal-naive forecast of the same
 *    points with its intervals (the least a forecast can do).
 * 2. An anomaly scan of 500 agents' hourly series over 30 days (500 × 720 points, daily
 *    season, spikes injected): season detection and the robust decomposition of every series.
 *    Goal < 2 s. Baseline in the same run: a plain loop over the same points computing a
 *    mean/standard-deviation z-score per series (no season, no robustness).
 * 3. Accuracy (not speed): 200 synthetic daily series (the tests' generator: trend, weekly season,
 *    noise), 28 held-out days each: MAPE next to seasonal naive's, and how often the held-out
 *    days fall inside the 95 % and 80 % intervals.
 * Timings are of the computation alone (the metrics query is the metrics plugin's bench).
 */
import { forecast, anomalies } from '../../plugins/trends/backend/service.ts';
import { holtWinters, intervalsOf, seasonalNaive } from '../../plugins/trends/backend/models/forecast.ts';
import { mulberry32 } from '../../plugins/trends/backend/models/random.ts';
import { forecastSeries } from '../../plugins/trends/backend/models/forecast.ts';
import { synthetic } from '../../plugins/trends/test/synthetic.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAY = 86_400_000;
const HOUR = 3_600_000;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

function time(label: string, runs: number, fn: () => unknown) {
  fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    fn();
    t.push(performance.now() - a);
  }
  const p50 = quantile(t, 0.5);
  const p95 = quantile(t, 0.95);
  const f = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms.toFixed(1));
  log(`${label}: p50 ${f(p50)} ms, p95 ${f(p95)} ms over ${runs} runs`);
  return { p50, p95 };
}

function gaussian(rand: () => number) {
  return () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

function series(n: number, step: number, period: number, seed: number, spikes = 0) {
  const rand = mulberry32(seed);
  const z = gaussian(rand);
  const pattern = Array.from({ length: period }, () => rand() * 2 - 1);
  const start = Date.UTC(2024, 0, 1);
  const values = Array.from({ length: n }, (_, t) => 200 + 0.1 * t + 60 * pattern[t % period]! + 8 * z());
  const at = new Set<number>();
  while (at.size < spikes) at.add(Math.floor(rand() * n));
  for (const i of at) values[i]! += 120;
  const points = values.map((value, t) => ({ bucket: new Date(start + t * step).toISOString(), value }));
  return Object.assign(points, { spikes: at });
}

// 1. forecast over two years of daily points
const daily = series(730, DAY, 7, 1);
const fc = time('forecast, 730 daily points, horizon 30', RUNS, () => forecast(daily, { horizon: 30 }));
const values = daily.map((p) => p.value);
const base1 = time('baseline: seasonal naive + intervals, same points', RUNS, () => intervalsOf(seasonalNaive(values, 7), 30, 0.95, true));
const base1b = time('baseline: one Holt-Winters pass with fixed parameters, same points', RUNS, () => intervalsOf(holtWinters(values, 7, 0.2, 0.05, 0.1), 30, 0.95, true));
const answer = forecast(daily, { horizon: 30 });
log(`  model ${answer.model}, season ${answer.seasonality.period} (strength ${answer.seasonality.strength.toFixed(2)}), backtest MAPE ${answer.backtest.mape?.toFixed(2)}% vs seasonal naive ${answer.backtest.baseline_mape?.toFixed(2)}%`);
log(`  forecast / one Holt-Winters pass (p50): ${(fc.p50 / base1b.p50).toFixed(0)}× (the grid and the backtest); forecast / seasonal naive: ${(fc.p50 / base1.p50).toFixed(0)}×; goal < 200 ms: ${fc.p95 < 200 ? 'met' : 'NOT met'} (p95 ${fc.p95.toFixed(1)} ms)`);

// 2. anomaly scan of 500 agents' hourly series over 30 days
const agents = Array.from({ length: 500 }, (_, i) => series(720, HOUR, 24, 100 + i, 3));
const scanRuns = Math.max(3, Math.round(RUNS / 4));
let found = 0;
let falseAlarms = 0;
const scan = time('anomaly scan, 500 agents × 720 hourly points', scanRuns, () => {
  found = 0;
  falseAlarms = 0;
  for (const s of agents) {
    anomalies(s).forEach((p, i) => {
      if (p.anomaly && s.spikes.has(i)) found++;
      else if (p.anomaly) falseAlarms++;
    });
  }
});
const base2 = time('baseline: plain mean/sd z-score loop, same points', scanRuns, () => {
  let n = 0;
  for (const s of agents) {
    let sum = 0;
    let sq = 0;
    for (const p of s) {
      sum += p.value!;
      sq += p.value! * p.value!;
    }
    const m = sum / s.length;
    const sd = Math.sqrt(Math.max(0, sq / s.length - m * m));
    for (const p of s) if (Math.abs(p.value! - m) > 3 * sd) n++;
  }
  return n;
});
log(`  spikes found: ${found} of 1500; false alarms: ${falseAlarms} of ${500 * 720 - 1500} other buckets (${((100 * falseAlarms) / (500 * 720 - 1500)).toFixed(2)}%)`);
log(`  scan / baseline (p50): ${(scan.p50 / base2.p50).toFixed(0)}×; goal < 2 s: ${scan.p95 < 2000 ? 'met' : 'NOT met'} (p95 ${scan.p95.toFixed(0)} ms)`);

// 3. accuracy on held-out days
{
  let in95 = 0;
  let in80 = 0;
  let total = 0;
  let model = 0;
  let naive = 0;
  const runs = 200;
  const horizon = 28;
  for (let seed = 1; seed <= runs; seed++) {
    const n = 70 + ((seed * 53) % 295);
    const s = synthetic({ n: n + horizon, level: 1000, slope: ((seed * 7) % 40) / 10 - 2, period: 7, amplitude: 100, noise: 5 + ((seed * 13) % 35), seed });
    const hist = s.values.slice(0, n);
    const held = s.values.slice(n);
    const mape = (p: ArrayLike<number>) => (100 * held.reduce((a, y, i) => a + Math.abs((y - p[i]!) / y), 0)) / horizon;
    const f95 = forecastSeries(hist, { horizon, interval: 0.95 });
    const f80 = forecastSeries(hist, { horizon, interval: 0.8 });
    model += mape(f95.values);
    naive += mape(seasonalNaive(hist, 7).predict(horizon));
    held.forEach((y, i) => {
      total++;
      if (y >= f95.lower[i]! && y <= f95.upper[i]!) in95++;
      if (y >= f80.lower[i]! && y <= f80.upper[i]!) in80++;
    });
  }
  log(`accuracy, ${runs} synthetic daily series, ${horizon} held-out days each: MAPE ${(model / runs).toFixed(2)}% vs seasonal naive ${(naive / runs).toFixed(2)}% (ratio ${(model / naive).toFixed(2)}); 95% intervals cover ${((100 * in95) / total).toFixed(1)}%, 80% intervals ${((100 * in80) / total).toFixed(1)}%`);
}
