/**
 * One socket.io connection per tab, shared by every widget. The server puts the socket in
 * the rooms it may see (org, departments, user); the client only filters by topic. The
 * token is read on every (re)connect so a reconnect after a token refresh authenticates
 * with the new one. A widget showing a department names it (`watchDepartment`): an Admin's
 * socket then joins that department's room too, which it is not in by membership.
 */
import { io, type Socket } from 'socket.io-client';
import type { ApiClient } from './api.ts';
import type { BusMessage } from '@orrery/plugin-sdk/contract';

export type { BusMessage } from '@orrery/plugin-sdk/contract';

export type RealtimeStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export class RealtimeHub {
  private socket: Socket | null = null;
  private handlers = new Map<string, Set<(m: BusMessage) => void>>();
  /** department id → how many widgets show it */
  private watched = new Map<string, number>();
  private statusListeners = new Set<(s: RealtimeStatus) => void>();
  status: RealtimeStatus = 'offline';

  constructor(private readonly api: ApiClient) {}

  start() {
    if (this.socket) return;
    this.setStatus('connecting');
    const socket = io({
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      auth: (cb) => { void this.api.accessToken().then((token) => cb({ token })); },
      // exponential backoff with jitter: a restarting server is not stampeded by every tab
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 30_000,
      randomizationFactor: 0.5,
    });
    socket.on('connect', () => {
      this.setStatus('live');
      // Rooms are joined by the server on connect; naming our topics lets a server that
      // supports it skip the ones this tab does not listen to.
      socket.emit('subscribe', { topics: [...this.handlers.keys()] });
      // a new connection starts in its own rooms only
      this.sendWatched();
    });
    socket.on('disconnect', (reason) => {
      this.setStatus('reconnecting');
      // the server closed us (e.g. a token that expired mid-connection): not retried by socket.io itself
      if (reason === 'io server disconnect') void this.api.refresh().then((p) => p && socket.connect());
    });
    socket.on('connect_error', (err) => {
      this.setStatus('reconnecting');
      // rejected at the handshake: refresh the token; socket.io retries with backoff only
      // for transport errors, so reconnect explicitly after an auth failure
      if (!socket.active) void this.api.refresh().then((p) => p && setTimeout(() => socket.connect(), 1000));
      void err;
    });
    socket.on('bus', (m: BusMessage) => {
      this.handlers.get(m.topic)?.forEach((h) => {
        try { h(m); } catch (e) { console.error(`bus handler for ${m.topic} failed`, e); }
      });
    });
    this.socket = socket;
  }

  stop() {
    this.socket?.disconnect();
    this.socket = null;
    this.setStatus('offline');
  }

  subscribe = (topic: string, handler: (m: BusMessage) => void): (() => void) => {
    let set = this.handlers.get(topic);
    const isNew = !set;
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    if (isNew && this.socket?.connected) this.socket.emit('subscribe', { topics: [topic] });
    return () => {
      set!.delete(handler);
      if (set!.size === 0) this.handlers.delete(topic);
    };
  };

  /** Receive the department's messages while the returned function is not called. */
  watchDepartment = (id: string): (() => void) => {
    const n = (this.watched.get(id) ?? 0) + 1;
    this.watched.set(id, n);
    if (n === 1) this.sendWatched();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.watched.get(id) ?? 1) - 1;
      if (left > 0) this.watched.set(id, left);
      else {
        this.watched.delete(id);
        this.sendWatched();
      }
    };
  };

  private sendWatched() {
    if (this.socket?.connected) this.socket.emit('watch', { department_ids: [...this.watched.keys()] });
  }

  onStatus(l: (s: RealtimeStatus) => void): () => void {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  private setStatus(s: RealtimeStatus) {
    this.status = s;
    this.statusListeners.forEach((l) => l(s));
  }
}
