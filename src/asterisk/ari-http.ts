import http from 'node:http';
import https from 'node:https';

// The HTTP under the ARI client's REST calls: node:http over a few kept-alive connections.
// Why not fetch: a CPU profile of a 500-call burst spent 11–14 % of the daemon in fetch (undici's
// web streams, AbortSignal and Request objects per call) for bodies of a few hundred bytes.
// Asterisk keeps connections alive (http.conf session_keep_alive, 15 s by default), so reusing at
// most `maxSockets` of them (the REST limiter's bound) also spares a TCP handshake per call.

export interface HttpAnswer {
  status: number;
  statusText: string;
  text: string;
}

export class HttpTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export class KeepAliveHttp {
  private readonly agent: http.Agent;

  constructor(secure: boolean, maxSockets: number) {
    const Agent = secure ? https.Agent : http.Agent;
    // An idle connection is dropped after 10 s, before Asterisk's 15 s: a request never goes out
    // on a socket the server is closing.
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 10_000, scheduling: 'lifo' });
  }

  request(method: string, url: URL, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpAnswer> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const h = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
      const req = mod.request(url, { method, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      });
      function fail(err: Error) {
        clearTimeout(timer);
        reject(err);
      }
      const timer = setTimeout(() => req.destroy(new HttpTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Closes the kept-alive connections (at stop). */
  close(): void {
    this.agent.destroy();
  }
}
