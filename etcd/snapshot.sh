#!/bin/bash
# kaws-etcd-snapshot: saves an etcd snapshot of this member and uploads it to
# s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/<UTC time>.db (SSE-KMS with $KAWS_KMS_KEY_ARN).
# Retention is a lifecycle rule on $KAWS_PREFIX in the bucket.
# Header values (etcd/render.ts renderEtcdSnapshotScript): KAWS_MEMBER, KAWS_BUCKET, KAWS_PREFIX (ends in /),
# KAWS_REGION, KAWS_KMS_KEY_ARN; the loopback client of this member: KAWS_ETCD_BIN_DIR, KAWS_ETCD_ENDPOINT,
# KAWS_ETCD_CA_CERT, KAWS_ETCD_PEER_CERT, KAWS_ETCD_PEER_KEY.
set -euo pipefail
umask 077
workdir=$(mktemp -d /var/tmp/etcd-snapshot.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
stamp=$(date -u +%Y%m%dT%H%M%SZ)
snapshot="$workdir/$KAWS_MEMBER-$stamp.db"
"$KAWS_ETCD_BIN_DIR"/etcdctl --endpoints="$KAWS_ETCD_ENDPOINT" --cacert="$KAWS_ETCD_CA_CERT" --cert="$KAWS_ETCD_PEER_CERT" --key="$KAWS_ETCD_PEER_KEY" --command-timeout=600s snapshot save "$snapshot"
# Refuses a corrupt file before it replaces anything in the bucket.
"$KAWS_ETCD_BIN_DIR"/etcdutl snapshot status "$snapshot" --write-out=table
aws s3 cp --only-show-errors --region "$KAWS_REGION" --sse aws:kms --sse-kms-key-id "$KAWS_KMS_KEY_ARN" \
  "$snapshot" "s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"
echo "uploaded s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"
