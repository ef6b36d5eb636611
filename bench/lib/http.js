'use strict';
/**
 * A small HTTP/1.1 client for the benchmark: keep-alive sockets, one cookie jar per
 * simulated person, form posts, and nanosecond timing. No redirects are followed, so
 * every step of a sign-in is a request we can check and time on its own.
 */
const http = require('node:http');
const { Buffer } = require('node:buffer');
const { URLSearchParams } = require('node:url');

class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  /** Applies the Set-Cookie headers of a response (deletions included). */
  take(setCookie) {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(name) {
    return this.cookies.get(name);
  }
}

/** A keep-alive agent for `sockets` concurrent connections to one server. */
function keepAliveAgent(sockets) {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/**
 * One request. Resolves with status, headers, body and the elapsed milliseconds from
 * the moment the request was handed to the socket to the last byte of the answer; rejects
 * after `timeoutMs` without an answer (error.code 'ETIMEDOUT').
 */
function request({ port, agent, method = 'GET', path, jar, form, timeoutMs = 30000 }) {
  return new Promise((resolve, reject) => {
    const body = form ? Buffer.from(new URLSearchParams(form).toString()) : null;
    const headers = { host: `127.0.0.1:${port}`, accept: 'text/html' };
    if (jar && jar.cookies.size) headers.cookie = jar.header();
    if (body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(body.length);
    }
    const started = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (jar) jar.take(res.headers['set-cookie']);
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error(`${method} ${path} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The CSRF token of the first form of a page (the layout and partials write `name="_csrf" value="…"`). */
function csrfFrom(html) {
  const match = html.match(/name="_csrf" value="([^"]+)"/);
  if (!match) throw new Error('no CSRF token in the page: ' + html.slice(0, 300));
  return match[1];
}

/** Value at the given percentile (0–100) of a list of numbers, nearest-rank method. */
function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

function median(values) {
  return percentile(values, 50);
}

module.exports = { CookieJar, keepAliveAgent, request, csrfFrom, percentile, median };
