#!/bin/bash
# Usage: kaws-etcd-restore <s3://bucket/key.db | /path/to/snapshot.db>
# Restores this member from the snapshot; see README "etcd: operations" for the whole procedure.
# Header values (etcd/render.ts renderEtcdRestoreScript): KAWS_REGION, KAWS_ETCD_ENVIRONMENT (the member's
# ETCD_* settings), KAWS_ETCD_CLUSTER_STATE; the loopback client of this member: KAWS_ETCD_BIN_DIR,
# KAWS_ETCD_ENDPOINT, KAWS_ETCD_CA_CERT, KAWS_ETCD_PEER_CERT, KAWS_ETCD_PEER_KEY.
set -euo pipefail
umask 077
if [ "$#" -ne 1 ]; then
  echo "usage: $0 <s3://bucket/key.db | /path/to/snapshot.db>" >&2
  exit 2
fi
if systemctl is-active --quiet etcd.service; then
  echo "etcd is running on this member: stop it on EVERY member first (systemctl stop etcd), then restore each in turn" >&2
  exit 1
fi
set -a
# shellcheck source=/dev/null
. "$KAWS_ETCD_ENVIRONMENT"
set +a
workdir=$(mktemp -d /var/tmp/etcd-restore.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
case "$1" in
  s3://*)
    aws s3 cp --only-show-errors --region "$KAWS_REGION" "$1" "$workdir/snapshot.db"
    snapshot="$workdir/snapshot.db"
    ;;
  *)
    snapshot="$1"
    ;;
esac
stamp=$(date -u +%Y%m%dT%H%M%SZ)
restored="$ETCD_DATA_DIR/restore-$stamp"
"$KAWS_ETCD_BIN_DIR"/etcdutl snapshot restore "$snapshot" \
  --name "$ETCD_NAME" \
  --initial-cluster "$ETCD_INITIAL_CLUSTER" \
  --initial-cluster-token "$ETCD_INITIAL_CLUSTER_TOKEN" \
  --initial-advertise-peer-urls "$ETCD_INITIAL_ADVERTISE_PEER_URLS" \
  --data-dir "$restored" \
  --bump-revision 1000000000 \
  --mark-compacted
if [ -d "$ETCD_DATA_DIR/member" ]; then
  mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.before-restore-$stamp"
  echo "previous data kept in $ETCD_DATA_DIR/member.before-restore-$stamp (delete it once the cluster is healthy)"
fi
mv "$restored/member" "$ETCD_DATA_DIR/member"
rmdir "$restored"
chown -R etcd:etcd "$ETCD_DATA_DIR"
chmod 0700 "$ETCD_DATA_DIR"
install -m 0600 /dev/null "$KAWS_ETCD_CLUSTER_STATE"
echo "ETCD_INITIAL_CLUSTER_STATE=existing" > "$KAWS_ETCD_CLUSTER_STATE"
systemctl start --no-block etcd.service
echo "$ETCD_NAME restored and starting; restore the next member now. Once all run: $KAWS_ETCD_BIN_DIR/etcdctl --endpoints=$KAWS_ETCD_ENDPOINT --cacert=$KAWS_ETCD_CA_CERT --cert=$KAWS_ETCD_PEER_CERT --key=$KAWS_ETCD_PEER_KEY endpoint health --cluster"
