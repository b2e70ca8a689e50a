import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { explain, LoopscopeError, MAX_TARGET_CHARS, parseWhatIfChanges, renderExplanationMarkdown, renderExplanationText, targetTooLong, whatIf } from '@loopscope/core';
import type { ExporterMetrics } from '../metrics';
import type { Engine } from '../engine';
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

/**
 * `/metrics`, `/healthz`, `/readyz` and the JSON API the Slack bot and the Grafana panel read.
 * Errors are JSON `{"error": {"status", "message", …}}` with a proper status code.
 */
export interface HttpLimits {
  /** Longest ?target= of /api/v1/explain (default MAX_TARGET_CHARS). */
  maxTargetChars: number;
}

export function createHttpServer(
  engine: Engine,
  metrics: ExporterMetrics,
  log: (level: 'info' | 'warn' | 'error', msg: string) => void,
  limits: HttpLimits = { maxTargetChars: MAX_TARGET_CHARS },
): Server {
  return createServer((req, res) => {
    handle(engine, metrics, limits, req, res).catch((err: unknown) => {
      if (err instanceof LoopscopeError) err = new HttpError(HTTP_STATUS[err.code], err.message, err.suggestions.length ? { suggestions: err.suggestions } : {});
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log('error', `${req.method} ${req.url?.split('?')[0]}: ${(err as Error).stack ?? err}`);
      sendJson(res, status, { error: { status, message: status === 500 ? 'internal error (see the exporter log)' : (err as Error).message, ...(err instanceof HttpError ? err.extra : {}) } });
    });
  });
}

async function handle(engine: Engine, metrics: ExporterMetrics, limits: HttpLimits, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'GET /readyz':
      return engine.health.ready ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready', message: 'the first full sync has not been analysed yet' });
    case 'GET /metrics': {
      const body = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(body);
      return;
    }
    case 'GET /api/v1/report':
      return sendJson(res, 200, requireReport(engine, true));
    case 'GET /api/v1/services': {
      // ?fixes=false skips the fixes' what-ifs (a list of Services rarely needs them).
      const report = requireReport(engine, url.searchParams.get('fixes') !== 'false');
      const verdict = url.searchParams.get('verdict');
      const namespace = url.searchParams.get('namespace');
      const services = report.services.filter((s) => (!verdict || s.verdict === verdict) && (!namespace || s.namespace === namespace));
      return sendJson(res, 200, { apiVersion: report.apiVersion, generatedAt: report.generatedAt, summary: report.summary, services });
    }
    case 'GET /api/v1/links': {
      const report = requireReport(engine, false);
      const service = url.searchParams.get('service');
      const limit = intParam(url, 'limit');
      let links = report.links.filter((l) => !service || `${l.service.namespace}/${l.service.name}` === service || l.service.name === service);
      links = [...links].sort((a, b) => b.probability - a.probability);
      const omitted = limit !== undefined ? Math.max(0, links.length - limit) : 0;
      return sendJson(res, 200, { apiVersion: report.apiVersion, generatedAt: report.generatedAt, links: limit !== undefined ? links.slice(0, limit) : links, linksOmitted: omitted });
    }
    case 'GET /api/v1/explain': {
      const analysis = requireAnalysis(engine);
      const target = url.searchParams.get('target');
      if (!target) throw new HttpError(400, 'give ?target= (a Service, namespace/name, a workload, a pod or an LB IP[:port])');
      const tooLong = targetTooLong(target.length, limits.maxTargetChars);
      if (tooLong) throw new HttpError(400, `?target=: ${tooLong} (--max-target-chars)`);
      const result = explain(analysis, target, { maxTargetChars: limits.maxTargetChars });
      if (!result.ok) throw new HttpError(HTTP_STATUS[result.problem === 'ambiguous' ? 'AMBIGUOUS' : 'NOT_FOUND'], result.message, { suggestions: result.suggestions });
      const format = url.searchParams.get('format') ?? 'json';
      if (format === 'markdown' || format === 'text') {
        res.writeHead(200, { 'content-type': format === 'markdown' ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8' });
        res.end(format === 'markdown' ? renderExplanationMarkdown(result.explanation) : renderExplanationText(result.explanation));
        return;
      }
      return sendJson(res, 200, { apiVersion: 'loopscope/v1', explanation: result.explanation, markdown: renderExplanationMarkdown(result.explanation), text: renderExplanationText(result.explanation) });
    }
    case 'POST /api/v1/whatif': {
      const analysis = requireAnalysis(engine);
      const body = await readJson(req);
      // A LoopscopeError (bad change 400, unknown Service 404, ambiguous 409) is mapped by HTTP_STATUS.
      return sendJson(res, 200, { apiVersion: 'loopscope/v1', kind: 'WhatIf', ...whatIf(analysis, parseWhatIfChanges(body)) });
    }
  }
  const known = ['/healthz', '/readyz', '/metrics', '/api/v1/report', '/api/v1/services', '/api/v1/links', '/api/v1/explain', '/api/v1/whatif'];
  if (known.includes(url.pathname)) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
  throw new HttpError(404, `no such endpoint ${url.pathname} (endpoints: ${known.join(', ')})`);
}

function requireAnalysis(engine: Engine) {
  const analysis = engine.analysis;
  if (!analysis) throw new HttpError(503, 'not ready: the first full sync has not been analysed yet');
  return analysis;
}

function requireReport(engine: Engine, fixes: boolean) {
  requireAnalysis(engine);
  return engine.currentReport({ fixes })!;
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
