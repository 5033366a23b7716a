/**
 * The per-request logger, made only when a request actually logs. fastify gives every request
 * `logger.child({ reqId })`; pino serialises the bindings at once, which was 2–3 % of the main
 * thread under single-event ingestion, where routes log at `warn` and almost never write a line.
 * This stands in for the child: a call at a disabled level returns at once, the first call at an
 * enabled level (or any other use) makes the real child with the same bindings and options.
 */
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export class LazyRequestLogger {
  private made: Logger | null = null;
  private readonly threshold: number;

  constructor(
    private readonly parent: Logger,
    private readonly bindings_: Record<string, unknown>,
    private readonly opts: { level?: string } & Record<string, unknown>,
  ) {
    this.threshold = opts.level ? (parent.levels.values[opts.level] ?? parent.levelVal) : parent.levelVal;
  }

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings_, this.opts));
  }

  private write(level: Level, args: unknown[]) {
    if (this.made === null && this.parent.levels.values[level]! < this.threshold) return;
    (this.real()[level] as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]) { this.write('trace', args); }
  debug(...args: unknown[]) { this.write('debug', args); }
  info(...args: unknown[]) { this.write('info', args); }
  warn(...args: unknown[]) { this.write('warn', args); }
  error(...args: unknown[]) { this.write('error', args); }
  fatal(...args: unknown[]) { this.write('fatal', args); }
  silent() {}

  child(bindings: Record<string, unknown>, opts?: Record<string, unknown>) {
    return this.real().child(bindings, opts);
  }
  bindings() {
    return this.real().bindings();
  }
  setBindings(b: Record<string, unknown>) {
    this.real().setBindings(b);
  }
  isLevelEnabled(level: string) {
    return this.made ? this.made.isLevelEnabled(level) : (this.parent.levels.values[level] ?? Infinity) >= this.threshold;
  }
  flush(cb?: (err?: Error) => void) {
    this.parent.flush(cb);
  }
  get level(): string {
    return this.made ? this.made.level : (this.opts.level ?? this.parent.level);
  }
  set level(l: string) {
    this.real().level = l;
  }
  get levelVal(): number {
    return this.made ? this.made.levelVal : this.threshold;
  }
  get levels() {
    return this.parent.levels;
  }
}

/** fastify's `childLoggerFactory`: a lazy child per request. */
export function lazyChildLoggerFactory(logger: unknown, bindings: Record<string, unknown>, opts: Record<string, unknown>) {
  return new LazyRequestLogger(logger as Logger, bindings, opts);
}
