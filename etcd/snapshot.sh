#!/bin/bash
# kaws-etcd-snapshot: on the leader only, saves an etcd snapshot and uploads it to
# s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/<UTC time>.db (SSE-KMS with $KAWS_KMS_KEY_ARN).
# Retention is a lifecycle rule on $KAWS_PREFIX in the bucket.
# Header values (etcd/render.ts renderEtcdSnapshotScript): KAWS_MEMBER, KAWS_BUCKET, KAWS_PREFIX (ends in /),
# KAWS_REGION, KAWS_KMS_KEY_ARN; the loopback client of this member: KAWS_ETCD_BIN_DIR, KAWS_ETCD_ENDPOINT,
# KAWS_ETCD_CA_CERT, KAWS_ETCD_PEER_CERT, KAWS_ETCD_PEER_KEY.
set -euo pipefail
umask 077
etcdctl() {
  "$KAWS_ETCD_BIN_DIR"/etcdctl --endpoints="$KAWS_ETCD_ENDPOINT" --cacert="$KAWS_ETCD_CA_CERT" --cert="$KAWS_ETCD_PEER_CERT" --key="$KAWS_ETCD_PEER_KEY" "$@"
}
# Only the leader uploads (as kops's etcd-manager backs up from its leader): every member holds the same
# data, so one series per cluster is enough, and when leadership moves the new leader's timer carries on.
status=$(etcdctl endpoint status --write-out=fields)
member_id=$(printf '%s\n' "$status" | awk -F' : ' '$1 == "\"MemberID\"" { print $2 }')
leader_id=$(printf '%s\n' "$status" | awk -F' : ' '$1 == "\"Leader\"" { print $2 }')
if [ -z "$member_id" ] || [ "$member_id" != "$leader_id" ]; then
  echo "$KAWS_MEMBER is not the leader (member $member_id, leader ${leader_id:-unknown}): no snapshot from here"
  exit 0
fi
workdir=$(mktemp -d /var/tmp/etcd-snapshot.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
stamp=$(date -u +%Y%m%dT%H%M%SZ)
snapshot="$workdir/$KAWS_MEMBER-$stamp.db"
etcdctl --command-timeout=600s snapshot save "$snapshot"
# Refuses a corrupt file before it replaces anything in the bucket.
"$KAWS_ETCD_BIN_DIR"/etcdutl snapshot status "$snapshot" --write-out=table
aws s3 cp --only-show-errors --region "$KAWS_REGION" --sse aws:kms --sse-kms-key-id "$KAWS_KMS_KEY_ARN" \
  "$snapshot" "s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"
echo "uploaded s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"
