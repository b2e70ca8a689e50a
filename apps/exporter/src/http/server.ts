import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import {
  atRiskList,
  explain,
  LoopscopeError,
  MAX_TARGET_CHARS,
  parseWhatIfChanges,
  renderExplanationMarkdown,
  renderExplanationText,
  targetTooLong,
  whatIf,
  type Report,
} from '@loopscope/core';
import type { Logger } from '@loopscope/core/node';
import type { ExporterMetrics } from '../metrics';
import type { Engine, ReportRequest } from '../engine';
import type { ApiToken } from './apiToken';
import { BodyCache, type Body } from './bodyCache';
import { observationsByService, withLiveObservations } from './liveObserved';
import type { ObservedRow } from '../evidence/nodeAgents';
import { HeavyTurns, yieldToEventLoop } from './heavyTurns';
import { HTTP_STATUS } from './status';

const MAX_BODY = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** What one listener serves: the operations endpoints, the JSON API, or both (one port). */
export interface ListenerOptions {
  ops: boolean;
  api: boolean;
  /** When set, every API request must carry it; `/metrics` and the probes never ask for it. */
  apiToken?: ApiToken;
  /** Longest ?target= of /api/v1/explain (default MAX_TARGET_CHARS). */
  maxTargetChars?: number;
  /** What the node agents saw (evidence/nodeAgents.ts), when the exporter pulls them. */
  live?: LiveEvidence;
}

export interface LiveEvidence {
  summary(): unknown;
  notes(namespace: string, service: string): string[];
  /** Per Service and node: connections the agents saw replied and unreplied, with ages. */
  observed(): ObservedRow[];
}

const OPS_PATHS = ['/healthz', '/readyz', '/metrics'];
const API_PATHS = [
  '/api/v1/report',
  '/api/v1/services',
  '/api/v1/services/at-risk',
  '/api/v1/links',
  '/api/v1/explain',
  '/api/v1/whatif',
  '/api/v1/observed',
];

/**
 * `/metrics`, `/healthz`, `/readyz` (for Prometheus and the kubelet) and the JSON API the Slack
 * bot and the Grafana panel read — on one port, or each on its own so that a NetworkPolicy can
 * tell them apart. Errors are JSON `{"error": {"status", "message", …}}` with a proper status code.
 */
export function createHttpServer(
  engine: Engine,
  metrics: ExporterMetrics,
  log: Logger,
  listener: ListenerOptions = { ops: true, api: true },
): Server {
  const bodies = new BodyCache();
  const heavy = new HeavyTurns();
  return createServer((req, res) => {
    handle(engine, metrics, bodies, heavy, listener, req, res).catch((err: unknown) => {
      if (err instanceof LoopscopeError)
        err = new HttpError(HTTP_STATUS[err.code], err.message, err.suggestions.length ? { suggestions: err.suggestions } : {});
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log('error', `${req.method} ${req.url?.split('?')[0]}: ${(err as Error).stack ?? err}`);
      if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="loopscope"');
      if (res.headersSent) return void res.destroy();
      sendJson(
        req,
        res,
        status,
        JSON.stringify({
          error: {
            status,
            message: status === 500 ? 'internal error (see the exporter log)' : (err as Error).message,
            ...(err instanceof HttpError ? err.extra : {}),
          },
        }),
      );
    });
  });
}

async function handle(
  engine: Engine,
  metrics: ExporterMetrics,
  bodies: BodyCache,
  heavy: HeavyTurns,
  listener: ListenerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const served = [...(listener.ops ? OPS_PATHS : []), ...(listener.api ? API_PATHS : [])];
  if (!served.includes(url.pathname)) {
    const elsewhere = !listener.api && API_PATHS.includes(url.pathname) ? ' (the JSON API is on its own port: --api-port)' : '';
    throw new HttpError(404, `no such endpoint ${url.pathname}${elsewhere} (endpoints here: ${served.join(', ')})`);
  }
  if (listener.apiToken && API_PATHS.includes(url.pathname)) {
    const refusal = listener.apiToken.refusal(req);
    if (refusal) throw new HttpError(401, refusal);
  }
  const route = `${req.method} ${url.pathname}`;
  const cached = async (key: string, build: () => unknown | Promise<unknown>): Promise<void> => {
    requireAnalysis(engine);
    // Built in a heavy turn (see HeavyTurns); an analysis may have replaced this one meanwhile.
    const body = await heavy.run(() => bodies.getInTurns(() => requireGeneration(engine), key, build, yieldToEventLoop));
    sendJson(req, res, 200, body);
  };
  switch (route) {
    case 'GET /healthz':
      return sendJson(req, res, 200, JSON.stringify({ status: 'ok' }));
    case 'GET /readyz':
      return engine.health.ready
        ? sendJson(req, res, 200, JSON.stringify({ status: 'ready' }))
        : sendJson(req, res, 503, JSON.stringify({ status: 'not ready', message: 'the first full sync has not been analysed yet' }));
    case 'GET /metrics': {
      const { contentType, body } = await heavy.run(() => metrics.render(req.headers.accept));
      return send(req, res, 200, contentType, body);
    }
    case 'GET /api/v1/observed':
      // What the node agents saw: per Service and node, with ages; and each agent's state.
      return sendJson(
        req,
        res,
        200,
        JSON.stringify(
          listener.live
            ? listener.live.summary()
            : { agents: [], observed: [], message: 'no node agents configured (--node-agent, or run in a pod)' },
        ),
      );
    case 'GET /api/v1/report': {
      // With node agents, each Service carries what they observed (observedLive) beside the prediction.
      const live = listener.live ? observationsByService(listener.live.observed()) : undefined;
      return cached(`report|${live?.fingerprint ?? ''}`, async () => {
        const report = await requireReport(engine, { fixes: true, links: true });
        return live ? { ...report, services: withLiveObservations(report.services, live.byService) } : report;
      });
    }
    case 'GET /api/v1/services': {
      // ?fixes=false skips the fixes' what-ifs (a list of Services rarely needs them). No links:
      // they are /api/v1/links.
      const fixes = url.searchParams.get('fixes') !== 'false';
      const verdict = url.searchParams.get('verdict');
      const namespace = url.searchParams.get('namespace');
      const live = listener.live ? observationsByService(listener.live.observed()) : undefined;
      return cached(`services?${fixes}&${verdict}&${namespace}|${live?.fingerprint ?? ''}`, async () => {
        // The list shows no links, so a report with them (already built for /api/v1/report) will do.
        const report = await requireReport(engine, { fixes, links: false, acceptFuller: fixes });
        const services = report.services.filter((s) => (!verdict || s.verdict === verdict) && (!namespace || s.namespace === namespace));
        return {
          apiVersion: report.apiVersion,
          generatedAt: report.generatedAt,
          summary: report.summary,
          services: live ? withLiveObservations(services, live.byService) : services,
        };
      });
    }
    case 'GET /api/v1/services/at-risk': {
      const namespace = url.searchParams.get('namespace') ?? undefined;
      const limit = intParam(url, 'limit');
      return cached(`at-risk?${namespace}&${limit}`, () =>
        atRiskList(requireAnalysis(engine), { generatedAt: generatedAt(engine), namespace, limit }),
      );
    }
    case 'GET /api/v1/links': {
      const service = url.searchParams.get('service');
      const limit = intParam(url, 'limit');
      return cached(`links?${service}&${limit}`, async () => {
        const report = await requireReport(engine, { fixes: false, links: true, acceptFuller: true });
        let links = report.links.filter(
          (l) => !service || `${l.service.namespace}/${l.service.name}` === service || l.service.name === service,
        );
        links = [...links].sort((a, b) => b.probability - a.probability);
        const omitted = limit !== undefined ? Math.max(0, links.length - limit) : 0;
        return {
          apiVersion: report.apiVersion,
          generatedAt: report.generatedAt,
          links: limit !== undefined ? links.slice(0, limit) : links,
          linksOmitted: omitted,
        };
      });
    }
    case 'GET /api/v1/explain': {
      requireAnalysis(engine);
      const target = url.searchParams.get('target');
      if (!target) throw new HttpError(400, 'give ?target= (a Service, namespace/name, a workload, a pod or an LB IP[:port])');
      const tooLong = targetTooLong(target.length, listener.maxTargetChars ?? MAX_TARGET_CHARS);
      if (tooLong) throw new HttpError(400, `?target=: ${tooLong} (--max-target-chars)`);
      const result = await heavy.run(() =>
        explain(requireAnalysis(engine), target, { maxTargetChars: listener.maxTargetChars ?? MAX_TARGET_CHARS }),
      );
      if (!result.ok)
        throw new HttpError(HTTP_STATUS[result.problem === 'ambiguous' ? 'AMBIGUOUS' : 'NOT_FOUND'], result.message, {
          suggestions: result.suggestions,
        });
      // What the node agents saw comes first in the evidence: observed beats inferred.
      if (listener.live) for (const s of result.explanation.services) s.observed.unshift(...listener.live.notes(s.namespace, s.name));
      const format = url.searchParams.get('format') ?? 'json';
      if (format === 'markdown' || format === 'text') {
        res.writeHead(200, { 'content-type': format === 'markdown' ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8' });
        res.end(format === 'markdown' ? renderExplanationMarkdown(result.explanation) : renderExplanationText(result.explanation));
        return;
      }
      return sendJson(
        req,
        res,
        200,
        JSON.stringify({
          apiVersion: 'loopscope/v1',
          explanation: result.explanation,
          markdown: renderExplanationMarkdown(result.explanation),
          text: renderExplanationText(result.explanation),
        }),
      );
    }
    case 'POST /api/v1/whatif': {
      requireAnalysis(engine);
      const body = await readJson(req);
      const changes = parseWhatIfChanges(body);
      // A LoopscopeError (bad change 400, unknown Service 404, ambiguous 409) is mapped by HTTP_STATUS.
      const json = await heavy.run(() =>
        JSON.stringify({ apiVersion: 'loopscope/v1', kind: 'WhatIf', ...whatIf(requireAnalysis(engine), changes) }),
      );
      return sendJson(req, res, 200, json);
    }
  }
  throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
}

function requireAnalysis(engine: Engine) {
  const analysis = engine.analysis;
  if (!analysis) throw new HttpError(503, 'not ready: the first full sync has not been analysed yet');
  return analysis;
}

function requireGeneration(engine: Engine): number {
  requireAnalysis(engine);
  return engine.generation;
}

async function requireReport(engine: Engine, options: ReportRequest): Promise<Report> {
  requireAnalysis(engine);
  return (await engine.reportInTurns(options))!;
}

function generatedAt(engine: Engine): string {
  return new Date(engine.health.lastSuccessfulAnalysis ?? Date.now()).toISOString();
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `?${name}=${v}: expected a whole number`);
  return n;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the body is not valid JSON (expected {"changes": [...]})');
  }
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, json: string | Body): void {
  send(req, res, status, 'application/json; charset=utf-8', json);
}

/**
 * Gzipped when the client accepts it and the body is worth it (a scrape is ~20× smaller). A body
 * in chunks is written chunk by chunk (a 130 MB report is never joined into one buffer), and
 * compressed as a stream off the main thread.
 */
function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Body): void {
  const chunks = typeof body === 'string' ? [Buffer.from(body)] : body;
  let size = 0;
  for (const c of chunks) size += c.length;
  const headers: Record<string, string> = { 'content-type': contentType, vary: 'accept, accept-encoding' };
  if (size < 1024 || !acceptsGzip(req.headers['accept-encoding'])) {
    res.writeHead(status, { ...headers, 'content-length': String(size) });
    for (const c of chunks) res.write(c);
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-encoding': 'gzip' });
  // Level 1: a scrape compresses ~16× at it, in under half the time of the default level. A client
  // gone mid-answer ends the pipeline; there is nothing more to do for it.
  pipeline(Readable.from(chunks), createGzip({ level: 1 }), res, () => undefined);
}

/** `gzip` listed without `q=0` (RFC 9110 Accept-Encoding). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part
      .trim()
      .toLowerCase()
      .split(';')
      .map((x) => x.trim());
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}
