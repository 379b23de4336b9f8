#!/bin/sh
# Lambda runs every file in /opt/extensions; this one starts the Datadog extension with the Node the
# layer ships (full flavor), else the runtime's (/var/lang/bin/node on Node.js runtimes: slim), else
# one on PATH (local runs, custom images). The function's NODE_OPTIONS (e.g. --require dd-trace/init)
# must not load into us, and NODE_EXTRA_CA_CERTS costs ~34 ms per start on Node 20 (custom CAs come
# from DD_TLS_CERT_FILE).
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS
case "$0" in
  */*) here="${0%/*}" ;;
  *) here="." ;;
esac
code="$here/../datadog-lambda"
if [ -x "$code/bin/node" ]; then
  node="$code/bin/node"
elif [ -x /var/lang/bin/node ]; then
  node=/var/lang/bin/node
elif command -v node >/dev/null 2>&1; then
  node=node
else
  exec /bin/bash "$code/refuse.sh" Extension.NodeNotFound "this is the slim layer, which runs on the function runtime's Node.js, and this runtime has none; use the full layer (datadog-extension-<arch>.zip), which ships its own"
fi
# A compile cache shipped with the layer (relative paths, so it holds wherever /opt is): V8 reads
# compiled code instead of parsing the bundles. Node before 22.1 ignores the variables.
if [ -d "$code/compile-cache" ]; then
  export NODE_COMPILE_CACHE="$code/compile-cache" NODE_COMPILE_CACHE_PORTABLE=1
fi
# V8 flags (bench/footprint.mjs, unlimited, medians of 5 cold starts x 12 invocations): one GC thread and a
# one-thread V8 pool stop V8 from sizing helpers to the host: RssAnon 32.5 -> 29.3 MB, spawn -> first /next and
# CPU per invocation unchanged. A 1 MB semi-space saved 3 MB more but cost ~25 ms before the first /next
# (scavenges while the bundle loads), so it is not set.
exec "$node" --single-threaded-gc --v8-pool-size=1 "$code/supervisor.cjs"
