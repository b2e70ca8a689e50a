import { request } from 'node:http';

/**
 * Asks `GET url` (a liveness endpoint) over and over, each on a fresh connection (as the kubelet
 * does), while an attack runs; `stop()` gives the worst wait seen — an answer still outstanding
 * counts with its age so far — and every status other than 200.
 */
export function pollHealthz(url: string, everyMs = 50): { stop(): Promise<{ worstMs: number; polls: number; failures: string[] }> } {
  let running = true;
  let worstMs = 0;
  let polls = 0;
  let inFlightSince: number | undefined;
  const failures: string[] = [];
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      inFlightSince = started;
      const done = (failure?: string): void => {
        inFlightSince = undefined;
        worstMs = Math.max(worstMs, performance.now() - started);
        polls++;
        if (failure) failures.push(failure);
        resolve();
      };
      const req = request(url, { agent: false, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', (err) => done(err.message));
      req.end();
    });
  const loop = (async () => {
    while (running) {
      await once();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      const outstanding = inFlightSince === undefined ? 0 : performance.now() - inFlightSince;
      await loop;
      return { worstMs: Math.max(worstMs, outstanding), polls, failures };
    },
  };
}
