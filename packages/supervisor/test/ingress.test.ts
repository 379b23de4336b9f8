import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@dd-lambda/config';
import { IngressServers } from '../src/index.js';

test('the trace socket: DD_APM_RECEIVER_SOCKET on Unix, the named pipe of DD_APM_WINDOWS_PIPE_NAME on Windows', () => {
  const { config } = loadConfig({ DD_APM_RECEIVER_SOCKET: '/tmp/apm.socket', DD_APM_WINDOWS_PIPE_NAME: 'dd-apm' }, { readYaml: false });
  assert.equal(IngressServers.apmSocketPath(config, 'linux'), '/tmp/apm.socket');
  assert.equal(IngressServers.apmSocketPath(config, 'win32'), '\\\\.\\pipe\\dd-apm');
  assert.equal(IngressServers.apmSocketPath(loadConfig({}, { readYaml: false }).config, 'linux'), undefined);
  assert.equal(IngressServers.apmSocketPath(loadConfig({ DD_APM_RECEIVER_SOCKET: '/x' }, { readYaml: false }).config, 'win32'), undefined);
});
