import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMiniAgentConfig } from '../src/mini-agent.js';

test('mini agent: Azure Functions and App Service tags from WEBSITE_*, origin per platform', () => {
  const fn = loadMiniAgentConfig({
    WEBSITE_SITE_NAME: 'shop-fn',
    FUNCTIONS_EXTENSION_VERSION: '~4',
    FUNCTIONS_WORKER_RUNTIME: 'node',
    WEBSITE_OWNER_NAME: '8c56d827-5f07-45ce-8f2b-6c5001db5c6f+shop-rg-EastUSwebspace-Linux',
    WEBSITE_SKU: 'Dynamic',
  });
  assert.equal(fn.platform, 'azure-functions');
  assert.equal(fn.config.origin, 'azurefunction');
  assert.equal(fn.tags['aas.subscription.id'], '8c56d827-5f07-45ce-8f2b-6c5001db5c6f');
  assert.equal(fn.tags['aas.resource.group'], 'shop-rg-EastUSwebspace');
  assert.equal(fn.tags['aas.site.kind'], 'functionapp');
  assert.equal(fn.tags['aas.environment.sku'], 'Dynamic');
  assert.equal(fn.tags['aas.resource.id'], '/subscriptions/8c56d827-5f07-45ce-8f2b-6c5001db5c6f/resourcegroups/shop-rg-eastuswebspace/providers/microsoft.web/sites/shop-fn');
  const app = loadMiniAgentConfig({ WEBSITE_SITE_NAME: 'shop', WEBSITE_RESOURCE_GROUP: 'shop-rg', WEBSITE_OWNER_NAME: 'sub+x-westeuropewebspace' });
  assert.equal(app.platform, 'azure-app-service');
  assert.equal(app.config.origin, 'appservice');
  assert.equal(app.tags['aas.resource.group'], 'shop-rg');
});

test('mini agent: Google Cloud Run functions, local; flush and shutdown settings; DogStatsD port 0 is off', () => {
  const gcp = loadMiniAgentConfig({
    K_SERVICE: 'orders',
    FUNCTION_TARGET: 'handle',
    DD_SERVERLESS_FLUSH_INTERVAL: '3',
    DD_SERVERLESS_SHUTDOWN_TIMEOUT: '9',
    DD_DOGSTATSD_PORT: '0',
  });
  assert.deepEqual([gcp.platform, gcp.config.origin, gcp.config.aws.functionName], ['gcp-functions', 'cloudfunction', 'orders']);
  assert.deepEqual([gcp.flushIntervalMs, gcp.shutdownTimeoutMs, gcp.dogstatsd], [3000, 9000, false]);
  assert.equal(gcp.config.computeStats, true);
  assert.equal(gcp.gcpMetadataHost, 'metadata.google.internal');
  assert.equal(loadMiniAgentConfig({ K_SERVICE: 'a', FUNCTION_TARGET: 'b', GCE_METADATA_HOST: '10.0.0.1:8080' }).gcpMetadataHost, '10.0.0.1:8080');
  assert.deepEqual(gcp.warnings, [], 'our variables are not reported as unsupported, port 0 not as invalid');
  const local = loadMiniAgentConfig({ DD_SERVERLESS_FLUSH_INTERVAL: 'soon', DD_LAMBDA_EXTENSION_COMPUTE_STATS: 'false' });
  assert.deepEqual([local.platform, local.flushIntervalMs, local.dogstatsd, local.config.computeStats, local.gcpMetadataHost], ['local', 10_000, true, false, undefined]);
  assert.ok(
    local.warnings.some((w) => w.includes('DD_SERVERLESS_FLUSH_INTERVAL')),
    'a bad value names the variable',
  );
});
