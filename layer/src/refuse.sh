#!/bin/bash
# Run by the launcher when no usable Node exists (the slim layer on a runtime that is not Node.js).
# It registers with the Extensions API and reports an init error naming the problem, so the platform
# shows why instead of an unexplained crash; bash's /dev/tcp does the HTTP since nothing else is
# there. usage: refuse.sh <errorType> <message>
type="$1"
msg="$2"
echo "{\"level\":60,\"component\":\"launcher\",\"code\":\"$type\",\"msg\":\"datadog-agent: $msg\"}"
api="${AWS_LAMBDA_RUNTIME_API:-}"
[ -n "$api" ] || exit 1
host="${api%:*}"
port="${api##*:}"

# request METHOD PATH HEADERS BODY: sends it, sets $ext_id from the Lambda-Extension-Identifier
# header of the answer (bash only: PATH may hold nothing else)
ext_id=
request() {
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n%s\r\n%s' \
    "$1" "$2" "$api" "${#4}" "$3" "$4" >&3
  local line
  while IFS= read -r line <&3; do
    line="${line%$'\r'}"
    [ -z "$line" ] && break
    case "${line,,}" in
      lambda-extension-identifier:*) ext_id="${line#*:}"; ext_id="${ext_id# }" ;;
    esac
  done
  exec 3<&-
}

request POST /2020-01-01/extension/register $'Lambda-Extension-Name: datadog-agent\r\n' '{"events":[]}'
[ -n "$ext_id" ] || exit 1
body="{\"errorMessage\":\"$msg\",\"errorType\":\"$type\"}"
request POST /2020-01-01/extension/init/error "Lambda-Extension-Identifier: $ext_id"$'\r\n'"Lambda-Extension-Function-Error-Type: $type"$'\r\n' "$body"
exit 1
