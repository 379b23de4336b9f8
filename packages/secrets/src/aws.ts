// One AWS JSON 1.1 call (`POST /` with X-Amz-Target), signed with SigV4, over node:https (node:http for a
// plain-HTTP endpoint override). No proxy, as Datadog's extension: these calls go to AWS, or to a VPC
// endpoint. AWS's error shape `{"__type": "...#Code", "message": "..."}` becomes a SecretsError.
import http from 'node:http';
import https from 'node:https';
import { SecretsError } from './errors.js';
import { signV4 } from './sigv4.js';
import type { Credentials } from './sigv4.js';

export interface AwsCall {
  endpoint: URL;
  region: string;
  /** Signing name: secretsmanager, kms, ssm. */
  service: string;
  /** X-Amz-Target: secretsmanager.GetSecretValue, TrentService.Decrypt, AmazonSSM.GetParameter. */
  target: string;
  body: Record<string, unknown>;
  credentials: Credentials;
  timeoutMs: number;
  now?: () => Date;
}

/** Throttling and server faults are worth another try; an access or a missing resource is not. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServerError',
  'KMSInternalException',
  'InternalServiceError',
]);

export function awsJsonCall(call: AwsCall): Promise<Record<string, unknown>> {
  const body = JSON.stringify(call.body);
  const signed = signV4({
    method: 'POST',
    host: call.endpoint.host,
    path: call.endpoint.pathname || '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': call.target },
    body,
    region: call.region,
    service: call.service,
    credentials: call.credentials,
    date: (call.now ?? (() => new Date()))(),
  });
  const mod = call.endpoint.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: call.endpoint.hostname,
        port: call.endpoint.port || (mod === http ? 80 : 443),
        path: call.endpoint.pathname || '/',
        method: 'POST',
        headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(call.timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => reject(new SecretsError('SEC_ERR_NETWORK', `${call.endpoint.host}: ${err.message}`, { retryable: true, cause: err })));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            const v: unknown = JSON.parse(text);
            if (v !== null && typeof v === 'object') parsed = v as Record<string, unknown>;
          } catch {
            // not JSON: reported below by status
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed);
          const type =
            String(parsed['__type'] ?? res.headers['x-amzn-errortype'] ?? `HTTP${status}`)
              .split('#')
              .pop()
              ?.split(':')[0] ?? `HTTP${status}`;
          const message = String(parsed['message'] ?? parsed['Message'] ?? text.slice(0, 200));
          reject(new SecretsError('SEC_ERR_AWS', `${type}: ${message}`, { awsCode: type, retryable: status >= 500 || RETRYABLE.has(type) }));
        });
      },
    );
    req.once('error', (err: NodeJS.ErrnoException) =>
      reject(new SecretsError('SEC_ERR_NETWORK', `${call.endpoint.host}: ${err.code ?? err.name}: ${err.message}`, { retryable: true, cause: err })),
    );
    req.end(body);
  });
}

/** SnapStart (and containers): the credentials endpoint the platform gives, with its token. */
export function containerCredentials(uri: string, token: string | undefined, timeoutMs: number): Promise<Credentials> {
  const url = new URL(uri);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(
      {
        host: url.hostname,
        port: url.port || (mod === http ? 80 : 443),
        path: `${url.pathname}${url.search}`,
        headers: token === undefined ? {} : { authorization: token },
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          try {
            const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            const id = v['AccessKeyId'];
            const secret = v['SecretAccessKey'];
            if ((res.statusCode ?? 0) >= 300 || typeof id !== 'string' || typeof secret !== 'string') throw new Error(`status ${res.statusCode ?? '?'}`);
            resolve({ accessKeyId: id, secretAccessKey: secret, sessionToken: typeof v['Token'] === 'string' ? v['Token'] : undefined });
          } catch (err) {
            reject(new SecretsError('SEC_ERR_CREDENTIALS', `AWS_CONTAINER_CREDENTIALS_FULL_URI gave no credentials: ${(err as Error).message}`, { retryable: true }));
          }
        });
      },
    );
    req.once('error', (err) => reject(new SecretsError('SEC_ERR_CREDENTIALS', `AWS_CONTAINER_CREDENTIALS_FULL_URI: ${err.message}`, { retryable: true, cause: err })));
  });
}
