#!/bin/bash
# kaws-etcd-boot: boots one etcd member. Runs at every boot (kaws-etcd-boot.service); every step is idempotent.
# Header values (etcd/render.ts renderEtcdBootScript):
#   KAWS_CLUSTER, KAWS_MEMBER, KAWS_MEMBER_TAG    the member's ENI and volume carry kaws:cluster and this tag
#   KAWS_FIXED_IP, KAWS_SUBNET_PREFIX              the ENI's fixed IP and its subnet's prefix length
#   KAWS_PEER_IPS                                  the other members' fixed IPs, space-separated; of them
#   KAWS_ON_LINK_PEER_IPS, KAWS_ROUTED_PEER_IPS    those in this member's subnet, and the others
#   KAWS_ETCD_VERSION, KAWS_ETCD_SHA256_AMD64, KAWS_ETCD_SHA256_ARM64   the pinned release and its checksums
#   KAWS_ETCD_DATA_DIR, KAWS_ETCD_BIN_DIR, KAWS_ETCD_CA_CERT, KAWS_ETCD_PEER_CERT, KAWS_ETCD_PEER_KEY,
#   KAWS_ETCD_CLUSTER_STATE, KAWS_FETCH_FILES      paths on the node
#   KAWS_ETCD_CLIENT_PORT, KAWS_ETCD_PEER_PORT
set -euo pipefail
member=$KAWS_MEMBER
cluster=$KAWS_CLUSTER
fixed_ip=$KAWS_FIXED_IP
subnet_prefix=$KAWS_SUBNET_PREFIX
peer_ips=$KAWS_PEER_IPS
# Peers in this member's subnet are reached directly, the others through the subnet's router.
on_link_peer_ips=$KAWS_ON_LINK_PEER_IPS
routed_peer_ips=$KAWS_ROUTED_PEER_IPS
data_dir=$KAWS_ETCD_DATA_DIR
etcd_version=$KAWS_ETCD_VERSION
etcd_sha256_amd64=$KAWS_ETCD_SHA256_AMD64
etcd_sha256_arm64=$KAWS_ETCD_SHA256_ARM64
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10

log() { echo "kaws-etcd-boot: $*" >&2; }
fail() { log "$*"; exit 1; }
# retry <attempts> <command...>: runs the command until it succeeds, waiting longer each time.
retry() {
  local attempts=$1 n=1
  shift
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then return 1; fi
    sleep $((n < 10 ? n : 10))
    n=$((n + 1))
  done
}

token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" http://169.254.169.254/latest/api/token)
imds() { curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"; }
instance_id=$(imds instance-id)
AWS_DEFAULT_REGION=$(imds placement/region)
export AWS_DEFAULT_REGION

# Resources of this member carry kaws:cluster=<cluster> and $KAWS_MEMBER_TAG=<member>.
find_tagged() {
  aws ec2 "describe-$1" --filters "Name=tag:kaws:cluster,Values=$cluster" "Name=tag:$KAWS_MEMBER_TAG,Values=$member" \
    --query "$2" --output text
}
eni_id=$(find_tagged network-interfaces 'NetworkInterfaces[0].NetworkInterfaceId')
volume_id=$(find_tagged volumes 'Volumes[0].VolumeId')
[[ "$eni_id" == eni-* ]] || fail "no ENI tagged $KAWS_MEMBER_TAG=$member"
[[ "$volume_id" == vol-* ]] || fail "no volume tagged $KAWS_MEMBER_TAG=$member"

# Attaches when free; while the previous instance still holds it (it is being terminated), waits.
attach_eni() {
  local status owner
  read -r status owner < <(aws ec2 describe-network-interfaces --network-interface-ids "$eni_id" \
    --query 'NetworkInterfaces[0].[Status,Attachment.InstanceId]' --output text)
  [ "$owner" = "$instance_id" ] && return 0
  [ "$status" = available ] || return 1
  aws ec2 attach-network-interface --network-interface-id "$eni_id" --instance-id "$instance_id" --device-index 1 >/dev/null
  return 1
}
attach_volume() {
  local state owner
  read -r state owner < <(aws ec2 describe-volumes --volume-ids "$volume_id" \
    --query 'Volumes[0].[State,Attachments[0].InstanceId]' --output text)
  [ "$owner" = "$instance_id" ] && return 0
  [ "$state" = available ] || return 1
  aws ec2 attach-volume --volume-id "$volume_id" --instance-id "$instance_id" --device /dev/xvdf >/dev/null
  return 1
}
retry 120 attach_eni || fail "ENI $eni_id did not attach"
retry 120 attach_volume || fail "volume $volume_id did not attach"

# The fixed IP's interface, found by the ENI's MAC address.
eni_mac=$(aws ec2 describe-network-interfaces --network-interface-ids "$eni_id" --query 'NetworkInterfaces[0].MacAddress' --output text)
eni_dev=""
find_eni_dev() {
  local dev
  for dev in /sys/class/net/*; do
    if [ "$(cat "$dev/address")" = "$eni_mac" ]; then eni_dev=$(basename "$dev"); return 0; fi
  done
  return 1
}
retry 60 find_eni_dev || fail "no interface with MAC $eni_mac"
has_fixed_ip() { ip -4 -o addr show dev "$eni_dev" | grep -q "inet $fixed_ip/"; }
if ! retry 30 has_fixed_ip; then
  ip link set "$eni_dev" up
  ip addr add "$fixed_ip/$subnet_prefix" dev "$eni_dev"
fi
# etcd accepts a peer only when the connection comes from an IP in the peer's certificate, so traffic to
# the other members must leave from the fixed IP. networkd must not drop these routes as foreign.
gateway=$(ip -4 route show default | awk '{ print $3; exit }')
install -d -m 0755 /etc/systemd/networkd.conf.d
printf '[Network]\nManageForeignRoutes=no\n' > /etc/systemd/networkd.conf.d/kaws-etcd.conf
for peer in $on_link_peer_ips; do
  ip route replace "$peer/32" dev "$eni_dev" src "$fixed_ip"
done
for peer in $routed_peer_ips; do
  ip route replace "$peer/32" via "$gateway" dev "$eni_dev" src "$fixed_ip"
done

# Nitro instances expose EBS volumes as NVMe devices whose serial is the volume id without its dash.
device=""
find_device() {
  local candidate
  for candidate in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume_id/-/}" /dev/xvdf /dev/sdf; do
    if [ -b "$candidate" ]; then device=$(readlink -f "$candidate"); return 0; fi
  done
  return 1
}
retry 60 find_device || fail "volume $volume_id attached but no block device appeared"

# Format only a blank volume; any doubt stops the boot rather than risk the member's data.
blkid_status=0
blkid -p "$device" >/dev/null 2>&1 || blkid_status=$?
case "$blkid_status" in
  0) ;;
  2) log "formatting blank volume $volume_id ($device)"; mkfs.xfs -L etcd-data "$device" ;;
  *) fail "cannot tell whether $device is blank (blkid exit $blkid_status); refusing to format" ;;
esac
id etcd >/dev/null 2>&1 || useradd --system --no-create-home --home-dir "$data_dir" --shell /sbin/nologin etcd
install -d -m 0700 "$data_dir"
mountpoint -q "$data_dir" || mount -o noatime "$device" "$data_dir"
# Picks up a volume enlarged since the last boot (kaws:etcdVolumeSizeGiB); a no-op otherwise.
xfs_growfs "$data_dir" >/dev/null
chown etcd:etcd "$data_dir"
chmod 0700 "$data_dir"

"$KAWS_FETCH_FILES"

case "$(uname -m)" in
  x86_64) arch=amd64; expected_sha256=$etcd_sha256_amd64 ;;
  aarch64) arch=arm64; expected_sha256=$etcd_sha256_arm64 ;;
  *) fail "unsupported architecture $(uname -m)" ;;
esac
[[ "$expected_sha256" =~ ^[0-9a-f]{64}$ ]] || fail "no verified sha256 for etcd $etcd_version $arch; refusing to install"
installed=$("$KAWS_ETCD_BIN_DIR"/etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }' || true)
if [ "$installed" != "$etcd_version" ]; then
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  archive="etcd-v$etcd_version-linux-$arch"
  # The NAT route may not exist yet (members launch before it): fail each attempt fast, retry for minutes.
  retry 30 curl -fsSL --proto '=https' --connect-timeout 10 -o "$download/$archive.tar.gz" \
    "https://github.com/etcd-io/etcd/releases/download/v$etcd_version/$archive.tar.gz"
  echo "$expected_sha256  $download/$archive.tar.gz" | sha256sum --check --quiet - || fail "etcd $etcd_version checksum mismatch"
  tar -xzf "$download/$archive.tar.gz" -C "$download"
  install -m 0755 "$download/$archive/etcd" "$download/$archive/etcdctl" "$download/$archive/etcdutl" "$KAWS_ETCD_BIN_DIR"/
fi

# existing: the volume holds this member's data, or it is blank and the running cluster lists this member
# (a replaced volume after `etcdctl member add`, or a member starting after its peers); new: it is blank
# and no peer answers, the first start of the cluster. A running cluster without this member is refused.
cluster_state() {
  local endpoints="" peer listed
  if [ -d "$data_dir/member" ]; then echo existing; return; fi
  for peer in $peer_ips; do endpoints="$endpoints${endpoints:+,}https://$peer:$KAWS_ETCD_CLIENT_PORT"; done
  if [ -z "$endpoints" ]; then echo new; return; fi
  if ! listed=$("$KAWS_ETCD_BIN_DIR"/etcdctl --endpoints="$endpoints" --cacert="$KAWS_ETCD_CA_CERT" --cert="$KAWS_ETCD_PEER_CERT" \
    --key="$KAWS_ETCD_PEER_KEY" --dial-timeout=3s --command-timeout=10s member list 2>/dev/null); then
    echo new
    return
  fi
  if grep -qF "https://$fixed_ip:$KAWS_ETCD_PEER_PORT" <<<"$listed"; then echo existing; return; fi
  fail "the running cluster does not list $member; on a healthy member run: etcdctl member add $member --peer-urls=https://$fixed_ip:$KAWS_ETCD_PEER_PORT"
}
state=$(cluster_state)
install -m 0600 /dev/null "$KAWS_ETCD_CLUSTER_STATE"
echo "ETCD_INITIAL_CLUSTER_STATE=$state" > "$KAWS_ETCD_CLUSTER_STATE"
log "starting $member ($state) on $fixed_ip"
systemctl daemon-reload
systemctl enable etcd.service kaws-etcd-snapshot.timer
# A member of a new cluster waits for its peers; do not hold the boot unit meanwhile.
systemctl start --no-block etcd.service kaws-etcd-snapshot.timer
