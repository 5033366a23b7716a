/**
 * What authentication costs a request: requests/s of a no-op route behind
 * authentication (JWT access token; API token) against the same no-op route
 * without it, in the same process and run, interleaved so that drift hits
 * both. A second kernel adds the rate limiter (limits set too high to trip)
 * to show its cost on top. Goal: auth costs under 10%.
 *
 *   npx tsx scripts/bench/auth.ts [secondsPerRound=4] [rounds=3] [connections=32]
 */
import autocannon from 'autocannon';
import { startBenchBackend } from './backend.ts';

const seconds = Number(process.argv[2] ?? 4);
const rounds = Number(process.argv[3] ?? 3);
const connections = Number(process.argv[4] ?? 32);

// the same handler under two permissions: the only difference is the auth hook's work
const noop = {
  name: 'bench',
  register(app: any) {
    app.get('/api/v1/bench/open', { config: { permission: 'public', rateClass: 'none' }, schema: { hide: true } }, async () => ({ ok: true }));
    app.get('/api/v1/bench/authed', { config: { permission: 'authenticated' }, schema: { hide: true } }, async () => ({ ok: true }));
  },
};

async function measure(url: string, token?: string) {
  // the load generator runs in a worker thread so it does not share the server's event loop
  const r = await autocannon({ url, connections, duration: seconds, workers: 1, headers: token ? { authorization: `Bearer ${token}` } : {} } as autocannon.Options);
  const non2xx = r.non2xx + r.errors;
  if (non2xx) throw new Error(`${url}: ${non2xx} failed requests (first status codes: ${JSON.stringify(r.statusCodeStats)})`);
  return r.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function run(label: string, config: Record<string, unknown>, cases: Array<'open' | 'jwt' | 'api'>) {
  const b = await startBenchBackend({ listen: true, modules: [noop], config });
  try {
    const api = (await b.client.post('/api/v1/tokens', { name: 'bench', kind: 'api' })).body.token as string;
    const target = (c: string) => (c === 'open' ? [`${b.url}/api/v1/bench/open`] : [`${b.url}/api/v1/bench/authed`, c === 'jwt' ? b.client.token : api]) as [string, string?];
    for (const c of cases) await measure(...target(c)); // warm-up: JIT, caches
    const got: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c, []]));
    for (let i = 0; i < rounds; i++) for (const c of cases) got[c]!.push(await measure(...target(c)));
    return Object.fromEntries(cases.map((c) => [c, median(got[c]!)])) as Record<string, number>;
  } finally {
    await b.close();
    void label;
  }
}

const started = Date.now();
const plain = await run('auth', { rateLimits: { enabled: false } }, ['open', 'jwt', 'api']);
const huge = { max: 1_000_000_000, windowSeconds: 60 };
const limited = await run('auth+limits', { rateLimits: { enabled: true, tiers: { standard: { api: huge } } } }, ['open', 'jwt']);

const pct = (x: number, base: number) => `${((1 - x / base) * 100).toFixed(1)}%`;
console.log(`no-op route, ${connections} connections, ${rounds} rounds × ${seconds} s each, median req/s (node ${process.version})`);
console.log(`  without auth                 ${plain.open!.toFixed(0).padStart(8)} req/s`);
console.log(`  JWT access token             ${plain.jwt!.toFixed(0).padStart(8)} req/s   ratio ${(plain.jwt! / plain.open!).toFixed(3)}   auth costs ${pct(plain.jwt!, plain.open!)}`);
console.log(`  API token                    ${plain.api!.toFixed(0).padStart(8)} req/s   ratio ${(plain.api! / plain.open!).toFixed(3)}   auth costs ${pct(plain.api!, plain.open!)}`);
console.log(`  with rate limiter: no auth   ${limited.open!.toFixed(0).padStart(8)} req/s`);
console.log(`  with rate limiter: JWT       ${limited.jwt!.toFixed(0).padStart(8)} req/s   ratio ${(limited.jwt! / limited.open!).toFixed(3)}   auth+limit cost ${pct(limited.jwt!, limited.open!)}`);
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(0);
