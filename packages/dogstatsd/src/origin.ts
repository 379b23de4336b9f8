// Origin metadata: how Datadog classifies a serverless metric (product, category, service), as
// DataDog/serverless-components crates/dogstatsd/src/origin.rs decides it: by the name's prefix
// (runtime metrics, the platform's enhanced metrics, else custom) and by the tags (a Lambda
// function's `function_arn`, or the mini agent platforms' `origin:`). Datadog's own metrics get none.

export interface Origin {
  origin_product: number;
  origin_category: number;
  origin_service: number;
}

const PRODUCT_SERVERLESS = 1;
const CATEGORY = { lambda: 38, appservice: 35, cloudrun: 36, containerapp: 37, azurefunction: 71 } as const;
const SERVICE = { custom: 472, enhanced: 473, runtime: 474 } as const;
const ENHANCED_PREFIXES = new Set(['aws.lambda', 'gcp.run', 'azure.functions']);

export function originOf(name: string, tags: readonly string[]): Origin | undefined {
  if (name.startsWith('datadog.')) return undefined;
  let category: number | undefined;
  if (tags.some((t) => t.startsWith('function_arn:'))) category = CATEGORY.lambda;
  else {
    for (const t of tags) {
      if (!t.startsWith('origin:')) continue;
      const v = t.slice('origin:'.length);
      if (Object.hasOwn(CATEGORY, v) && v !== 'lambda') category = CATEGORY[v as keyof typeof CATEGORY];
      if (category !== undefined) break;
    }
  }
  if (category === undefined) return undefined;
  const prefix = name.split('.', 2).join('.');
  const service = name.startsWith('jvm.') || name.startsWith('runtime.') ? SERVICE.runtime : ENHANCED_PREFIXES.has(prefix) ? SERVICE.enhanced : SERVICE.custom;
  return { origin_product: PRODUCT_SERVERLESS, origin_category: category, origin_service: service };
}
