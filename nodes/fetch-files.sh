#!/bin/bash
# kaws-fetch-files: installs this node's files from s3://$KAWS_BUCKET/$KAWS_PREFIX/ with the modes and owners
# listed in $KAWS_MANIFEST ("<mode> <user:group> <path>" per line). Holds no secret itself: the instance
# profile can read only its role's prefix, and the objects are SSE-KMS.
# Header values (nodes/fileDelivery.ts renderFetchFilesScript): KAWS_BUCKET, KAWS_PREFIX, KAWS_REGION, KAWS_MANIFEST.
set -euo pipefail
umask 077
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if aws s3 cp --recursive --only-show-errors --region "$KAWS_REGION" "s3://$KAWS_BUCKET/$KAWS_PREFIX/" "$staging/"; then
    break
  fi
  if [ "$attempt" -eq 10 ]; then
    echo "could not fetch s3://$KAWS_BUCKET/$KAWS_PREFIX/" >&2
    exit 1
  fi
  sleep $((attempt * 3))
done
while read -r mode owner path; do
  install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$staging$path" "$path"
done < "$staging/$KAWS_MANIFEST"
