/** A promise settled from outside (a first sync), whose rejection is never unhandled. */

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
  settled: boolean;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const d: Deferred = {
    promise: new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: () => {
      d.settled = true;
      resolve();
    },
    reject: (err) => {
      d.settled = true;
      reject(err);
    },
    settled: false,
  };
  d.promise.catch(() => undefined); // rejections are seen by start(); never unhandled
  return d;
}
