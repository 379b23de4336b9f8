// A fake of the three AWS APIs the extension calls for its API key, speaking JSON 1.1 (`POST /` with
// X-Amz-Target) on one local port: Secrets Manager GetSecretValue, KMS Decrypt and SSM GetParameter.
// Every request's SigV4 signature is recomputed with aws4 (an implementation independent of the one
// the extension uses) from the headers the request says it signed, under the credentials registered
// here; a mismatch is InvalidSignatureException, as AWS answers. Errors use AWS's JSON error shape.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';

export interface FakeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface KmsEntry {
  /** The plaintext KMS returns (it is sent base64-encoded, as KMS does). */
  plaintext: string;
  /** When set, Decrypt succeeds only with exactly this encryption context. */
  encryptionContext?: Record<string, string>;
}

export interface RecordedCall {
  /** Epoch ms the request arrived. */
  at: number;
  target: string;
  region: string;
  service: string;
  body: Record<string, unknown>;
  /** The answer's status and, for errors, AWS's error type. */
  status: number;
  error?: string;
}

export interface FakeAwsOptions {
  credentials: FakeCredentials[];
  /** Secrets Manager: SecretId (ARN) → SecretString. */
  secrets?: Record<string, string>;
  /** SSM: parameter name or ARN → value. */
  parameters?: Record<string, string>;
  /** KMS: base64 CiphertextBlob → what it decrypts to. */
  ciphertexts?: Record<string, KmsEntry>;
}

const TARGETS: Record<string, string> = {
  'secretsmanager.GetSecretValue': 'secretsmanager',
  'TrentService.Decrypt': 'kms',
  'AmazonSSM.GetParameter': 'ssm',
};

class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeAws {
  readonly calls: RecordedCall[] = [];
  readonly #o: FakeAwsOptions;
  readonly #server: http.Server;

  constructor(options: FakeAwsOptions) {
    this.#o = { ...options, secrets: { ...options.secrets }, parameters: { ...options.parameters }, ciphertexts: { ...options.ciphertexts } };
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#serve(req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  /** Listens on 127.0.0.1; resolves with the base URL (for AWS_ENDPOINT_URL_*). */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  /** Changes a secret's value (a rotation). */
  setSecret(arn: string, value: string): void {
    (this.#o.secrets as Record<string, string>)[arn] = value;
  }

  #serve(req: http.IncomingMessage, text: string, res: http.ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const record: RecordedCall = { at: Date.now(), target, region: '', service: '', body: {}, status: 200 };
    this.calls.push(record);
    try {
      if (req.method !== 'POST' || req.url !== '/') throw new AwsFault('UnknownOperationException', `${req.method ?? ''} ${req.url ?? ''}`, 404);
      const service = TARGETS[target];
      if (service === undefined) throw new AwsFault('UnknownOperationException', `unknown target ${target}`);
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') throw new AwsFault('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      const scope = this.#verify(req, text, service);
      record.region = scope.region;
      record.service = scope.service;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new AwsFault('SerializationException', 'the body is not JSON');
      }
      record.body = body;
      this.#answer(res, 200, this.#call(target, body));
    } catch (err) {
      const f = err instanceof AwsFault ? err : new AwsFault('InternalFailure', (err as Error).message, 500);
      record.status = f.status;
      record.error = f.type;
      this.#answer(res, f.status, { __type: f.type, message: f.message }, f.type);
    }
  }

  /** Recomputes the signature with aws4 over the signed headers; returns the credential scope. */
  #verify(req: http.IncomingMessage, body: string, service: string): { region: string; service: string } {
    const auth = String(req.headers['authorization'] ?? '');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new AwsFault('IncompleteSignatureException', 'the Authorization header is not a SigV4 signature');
    const [, keyId, day, region, scopeService, signedHeaders, signature] = m as unknown as string[];
    const creds = this.#o.credentials.find((c) => c.accessKeyId === keyId);
    if (!creds) throw new AwsFault('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (scopeService !== service) throw new AwsFault('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
    const names = (signedHeaders as string).split(';');
    for (const required of ['host', 'x-amz-date', 'x-amz-target', 'content-type']) {
      if (!names.includes(required)) throw new AwsFault('InvalidSignatureException', `the signature must cover ${required}`);
    }
    if (creds.sessionToken !== undefined && (req.headers['x-amz-security-token'] !== creds.sessionToken || !names.includes('x-amz-security-token'))) {
      throw new AwsFault('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const date = String(req.headers['x-amz-date'] ?? '');
    if (!date.startsWith(day as string)) throw new AwsFault('InvalidSignatureException', 'the credential date does not match X-Amz-Date');
    const headers: Record<string, string> = {};
    for (const n of names) {
      const v = req.headers[n];
      if (v === undefined) throw new AwsFault('InvalidSignatureException', `signed header ${n} is missing`);
      headers[n] = Array.isArray(v) ? v.join(',') : v;
    }
    // aws4 would add and sign Content-Length (absent from the signed list): ignore what the client did not sign.
    const ignore: Record<string, boolean> = { 'content-length': true };
    const expected = aws4.sign(
      {
        host: headers['host'] ?? '',
        method: req.method ?? 'POST',
        path: req.url ?? '/',
        service,
        region: region as string,
        headers,
        body,
        extraHeadersToIgnore: ignore,
      } as aws4.Request,
      {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}),
      },
    );
    const got = /Signature=([0-9a-f]{64})/.exec(String(expected.headers?.['Authorization'] ?? ''))?.[1];
    if (got !== signature) throw new AwsFault('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    return { region: region as string, service };
  }

  #call(target: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (target) {
      case 'secretsmanager.GetSecretValue': {
        const id = String(body['SecretId'] ?? '');
        const value = this.#o.secrets?.[id];
        if (value === undefined) throw new AwsFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        return { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'v1' };
      }
      case 'AmazonSSM.GetParameter': {
        const name = String(body['Name'] ?? '');
        const value = this.#o.parameters?.[name];
        if (value === undefined) throw new AwsFault('ParameterNotFound', `Parameter ${name} not found.`);
        if (body['WithDecryption'] !== true) throw new AwsFault('AccessDeniedException', 'this fake only serves decrypted SecureString parameters');
        return { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1 } };
      }
      case 'TrentService.Decrypt': {
        const blob = String(body['CiphertextBlob'] ?? '');
        const entry = this.#o.ciphertexts?.[blob];
        if (entry === undefined) throw new AwsFault('InvalidCiphertextException', '');
        const ctx = (body['EncryptionContext'] ?? undefined) as Record<string, string> | undefined;
        if (JSON.stringify(ctx ?? {}) !== JSON.stringify(entry.encryptionContext ?? {})) throw new AwsFault('InvalidCiphertextException', '');
        return { KeyId: 'arn:aws:kms:us-east-1:123456789012:key/fake', Plaintext: Buffer.from(entry.plaintext).toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      default:
        throw new AwsFault('UnknownOperationException', target);
    }
  }

  #answer(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
    res.end(text);
  }
}
