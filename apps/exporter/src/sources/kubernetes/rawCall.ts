/**
 * One generated-client request with our abort signal, and the response's JSON taken raw (the
 * generated client would turn it into typed model objects, with Dates and unknown fields dropped).
 */
import type * as k8s from '@kubernetes/client-node';
import type { ClientNode } from './options';

export const UNSUPPORTED_CLIENT =
  'this @kubernetes/client-node did not pass the response through the call middleware (loopscope needs client-node ~1.4)';

export type Raw = Record<string, unknown>;

export function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Call options for one generated-client request: our abort signal in, the raw JSON body out. */
export function rawCall(client: ClientNode, signal: AbortSignal): { options: k8s.ConfigurationOptions; body(): unknown } {
  let captured: unknown;
  // What the generated client deserializes instead of the real body (we use the raw one).
  const placeholder = '{"metadata":{},"items":[]}';
  const middleware: k8s.ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new client.Observable(Promise.resolve(ctx));
    },
    post: (rsp) =>
      new client.Observable(
        (async (): Promise<k8s.ResponseContext> => {
          if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) return rsp;
          captured = JSON.parse(await rsp.body.text()) as unknown;
          return new client.ResponseContext(rsp.httpStatusCode, rsp.headers, {
            text: async () => placeholder,
            binary: async () => Buffer.from(placeholder),
          });
        })(),
      ),
  };
  return { options: { middleware: [middleware], middlewareMergeStrategy: 'append' }, body: () => captured };
}
