import type http from 'node:http';
import type https from 'node:https';
import type { Socket } from 'node:net';

/**
 * How long `close()` lets responses already being sent reach their clients before cutting them. The exporter
 * closes HTTP after the collection has stopped (at most 3 s: the scheduler's grace for a running cycle, then
 * the collection thread is ended), and the whole shutdown must stay
 * within 5 s even when a scraper has stopped reading.
 */
export const DEFAULT_DRAIN_LIMIT_MS = 1500;

/**
 * A graceful close for the exporter's HTTP server: stop accepting, let every response already being sent
 * reach its client, close each keep-alive connection as soon as it is idle, and cut whatever is left after a
 * limit (so a client that stops reading cannot hold the shutdown).
 *
 * Node's own `closeIdleConnections()`, which `server.close()` runs, counts a connection as idle once its
 * response is *ended*, even while part of the body still waits in the socket's write queue: a scraper
 * reading a large /metrics at the moment of SIGTERM would get it cut short. Here a connection is busy from a
 * request's arrival (`request`, which the server's request handler calls for each one) until its response
 * has been handed to the kernel (the response's `close` event), and that method is replaced by one that
 * leaves busy connections alone.
 */
export class ConnectionDrain {
  /** Every accepted TCP connection (under TLS: the raw sockets, handshake or not). */
  readonly #accepted = new Set<Socket>();
  /** Connections that carry HTTP (the TLS sockets under TLS). */
  readonly #http = new Set<Socket>();
  /** Responses not yet handed to the kernel, per connection. */
  readonly #busy = new Map<Socket, number>();
  #closing = false;
  readonly #responseClosed: (this: http.ServerResponse) => void;

  constructor(server: http.Server | https.Server, secure: boolean) {
    server.on('connection', (socket: Socket) => track(this.#accepted, socket));
    server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => track(this.#http, socket));
    // One listener function for every response (a scrape allocates no closure for it).
    const busy = this.#busy;
    const closing = (): boolean => this.#closing;
    this.#responseClosed = function (this: http.ServerResponse): void {
      const socket = this.req.socket;
      const left = (busy.get(socket) ?? 1) - 1;
      if (left > 0) {
        busy.set(socket, left);
        return;
      }
      busy.delete(socket);
      // Closing: the response is out, the connection has nothing more to do.
      if (closing()) socket.destroySoon();
    };
    server.closeIdleConnections = () => this.closeIdleConnections();
  }

  /**
   * A request has arrived: its connection is busy until the response has been handed to the kernel. The
   * server's request handler calls this first (rather than a second `request` listener, which would make
   * Node copy the listener list for every request).
   */
  request(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    // A response object serves one request: `on` is enough, and cheaper than `once`.
    res.on('close', this.#responseClosed);
  }

  /** Destroys the connections that are not sending a response; from now on, each one as it finishes. */
  closeIdleConnections(): void {
    this.#closing = true;
    for (const socket of this.#http) if (!this.#busy.has(socket)) socket.destroy();
  }

  /**
   * Closes the server: no new connections, idle ones closed at once, busy ones when their response is out,
   * and everything still open after `limitMs` destroyed. Resolves when the server has closed.
   */
  async close(close: () => Promise<void>, limitMs = DEFAULT_DRAIN_LIMIT_MS): Promise<void> {
    this.#closing = true;
    const cut = setTimeout(() => {
      for (const socket of [...this.#http, ...this.#accepted]) socket.destroy();
    }, limitMs);
    try {
      await close();
    } finally {
      clearTimeout(cut);
    }
  }
}

function track(set: Set<Socket>, socket: Socket): void {
  set.add(socket);
  socket.once('close', () => set.delete(socket));
}
