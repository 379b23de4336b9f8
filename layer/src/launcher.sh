#!/bin/sh
# Lambda runs every file in /opt/extensions; this one starts the Datadog extension with the best
# Node available: the one shipped in the layer, else the runtime's, else any on PATH. The
# function's NODE_OPTIONS (e.g. --require dd-trace/init) must not load into us, and
# NODE_EXTRA_CA_CERTS costs ~34 ms per start on Node 20 (custom CAs come from DD_TLS_CERT_FILE).
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
  echo '{"level":60,"component":"launcher","msg":"datadog-agent: no Node.js found (layer bin/node, /var/lang/bin/node, PATH); the extension cannot start"}'
  exit 1
fi
exec "$node" "$code/supervisor.cjs"
