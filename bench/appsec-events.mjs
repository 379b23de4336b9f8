// Synthetic API Gateway invocations for the AppSec bench: mostly clean requests, one in ten carrying a
// scanner user agent and an injection in the query; each with an API-Gateway-shaped response.
export function invocations(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const attack = i % 10 === 0;
    const event = {
      resource: '/orders/{id}',
      path: `/orders/${i}`,
      httpMethod: i % 3 === 0 ? 'POST' : 'GET',
      headers: {
        'User-Agent': attack ? 'Arachni/v1.5.1' : 'Mozilla/5.0 (X11; Linux x86_64)',
        Host: 'api.example.com',
        'Content-Type': 'application/json',
        Cookie: `session=${i}; theme=dark`,
        'X-Forwarded-For': `203.0.113.${i % 250}`,
      },
      queryStringParameters: { q: attack ? "1' OR '1'='1" : `item-${i}`, page: String(i % 5) },
      pathParameters: { id: String(i) },
      requestContext: { stage: 'prod', identity: { sourceIp: '203.0.113.1' }, requestId: `gw-${i}` },
      body: JSON.stringify({ items: Array.from({ length: 10 }, (_, j) => ({ sku: `sku-${j}`, qty: j })), note: attack ? '<script>alert(1)</script>' : 'leave at door' }),
      isBase64Encoded: false,
    };
    const response = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true, id: i }) };
    out.push({ requestId: `r-${i}`, event: Buffer.from(JSON.stringify(event)), response: Buffer.from(JSON.stringify(response)) });
  }
  return out;
}
