import { Netmask } from "netmask";
import { renderCloudConfig } from "../nodes/cloudInit";

/** Ports of an etcd member: clients (TLS), peers (TLS) and plain-HTTP metrics on localhost only. */
export const etcdPorts = { client: 2379, peer: 2380, metrics: 2381 } as const;

/** Tag carried by a member's ENI and data volume ("etcd-<i>"); the boot script finds them by it. */
export const etcdMemberTag = "kaws:etcd-member";

/** Where everything lives on an etcd node. */
export const etcdPaths = {
    pkiDir: "/etc/etcd/pki",
    caCert: "/etc/etcd/pki/ca.crt",
    serverCert: "/etc/etcd/pki/server.crt",
    serverKey: "/etc/etcd/pki/server.key",
    peerCert: "/etc/etcd/pki/peer.crt",
    peerKey: "/etc/etcd/pki/peer.key",
    /** etcd's whole configuration as ETCD_* variables; read by systemd (as root) before dropping to the etcd user. */
    environment: "/etc/etcd/etcd.env",
    /** ETCD_INITIAL_CLUSTER_STATE, written at boot from what the data volume holds. */
    clusterState: "/etc/etcd/cluster-state.env",
    /** Mount point of the persistent data volume, and etcd's data directory. */
    dataDir: "/var/lib/etcd",
    binDir: "/usr/local/bin",
    unit: "/etc/systemd/system/etcd.service",
    snapshotScript: "/usr/local/sbin/kaws-etcd-snapshot",
    snapshotService: "/etc/systemd/system/kaws-etcd-snapshot.service",
    snapshotTimer: "/etc/systemd/system/kaws-etcd-snapshot.timer",
    restoreScript: "/usr/local/sbin/kaws-etcd-restore",
    bootScript: "/usr/local/sbin/kaws-etcd-boot",
    bootUnit: "/etc/systemd/system/kaws-etcd-boot.service",
    fetchScript: "/usr/local/sbin/kaws-fetch-files",
} as const;

/**
 * Raft timing for members spread over AZs of one region. Inter-AZ round trips are a few milliseconds at
 * most; the etcd tuning guide asks for a heartbeat near the round trip and an election timeout of at
 * least ten heartbeats. 250 ms / 2.5 s leaves room for gp3 fsync tail latency and inter-AZ jitter without
 * spurious elections, and still elects a new leader within about 3 s of losing one.
 */
export const etcdTiming = { heartbeatMs: 250, electionMs: 2500 } as const;

/** TLS 1.2 suites for clients and peers (TLS 1.3 suites are not configurable); same names in etcd 3.4 and 3.6. */
export const etcdCipherSuites = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
] as const;

/** etcd's recommended ceiling for the backend database. */
const maxQuotaBytes = 8 * 1024 ** 3;

/** Backend quota: half the data volume (room for the WAL, raft snapshots and a pre-restore copy), at most 8 GiB. */
export function etcdQuotaBytes(volumeSizeGiB: number): number {
    return Math.min(maxQuotaBytes, Math.floor(volumeSizeGiB / 2) * 1024 ** 3);
}

export interface EtcdPeer {
    /** Member name, etcd-<i>. */
    readonly name: string;
    /** Fixed private IP of its ENI. */
    readonly ip: string;
}

export interface EtcdMemberSettings {
    readonly clusterName: string;
    /** The member being configured. */
    readonly member: EtcdPeer;
    /** Every member, this one included, in index order. */
    readonly members: readonly EtcdPeer[];
    readonly quotaBackendBytes: number;
}

const clientUrl = (ip: string) => `https://${ip}:${etcdPorts.client}`;
const peerUrl = (ip: string) => `https://${ip}:${etcdPorts.peer}`;

/** The initial-cluster string every member and the restore script share. */
export function initialCluster(members: readonly EtcdPeer[]): string {
    return members.map((m) => `${m.name}=${peerUrl(m.ip)}`).join(",");
}

/**
 * etcd's configuration as ETCD_* environment variables (each is the flag of the same name). Only
 * settings valid for both etcd 3.4 and 3.6 are used. ETCD_INITIAL_CLUSTER_STATE is not here: the boot
 * script derives it from the data volume.
 */
export function renderEtcdEnvironment(s: EtcdMemberSettings): string {
    if (!s.members.some((m) => m.name === s.member.name && m.ip === s.member.ip)) {
        throw new Error(`etcd member ${s.member.name} (${s.member.ip}) is not in the member list`);
    }
    const settings: [string, string | number | boolean][] = [
        ["NAME", s.member.name],
        ["DATA_DIR", etcdPaths.dataDir],
        ["LISTEN_PEER_URLS", peerUrl(s.member.ip)],
        ["LISTEN_CLIENT_URLS", `${clientUrl(s.member.ip)},${clientUrl("127.0.0.1")}`],
        ["ADVERTISE_CLIENT_URLS", clientUrl(s.member.ip)],
        ["INITIAL_ADVERTISE_PEER_URLS", peerUrl(s.member.ip)],
        ["INITIAL_CLUSTER", initialCluster(s.members)],
        ["INITIAL_CLUSTER_TOKEN", `${s.clusterName}-etcd`],
        ["LISTEN_METRICS_URLS", `http://127.0.0.1:${etcdPorts.metrics}`],
        ["CERT_FILE", etcdPaths.serverCert],
        ["KEY_FILE", etcdPaths.serverKey],
        ["TRUSTED_CA_FILE", etcdPaths.caCert],
        ["CLIENT_CERT_AUTH", true],
        ["PEER_CERT_FILE", etcdPaths.peerCert],
        ["PEER_KEY_FILE", etcdPaths.peerKey],
        ["PEER_TRUSTED_CA_FILE", etcdPaths.caCert],
        ["PEER_CLIENT_CERT_AUTH", true],
        ["AUTO_TLS", false],
        ["PEER_AUTO_TLS", false],
        ["CIPHER_SUITES", etcdCipherSuites.join(",")],
        ["HEARTBEAT_INTERVAL", etcdTiming.heartbeatMs],
        ["ELECTION_TIMEOUT", etcdTiming.electionMs],
        ["SNAPSHOT_COUNT", 10000],
        ["QUOTA_BACKEND_BYTES", s.quotaBackendBytes],
        ["AUTO_COMPACTION_MODE", "periodic"],
        ["AUTO_COMPACTION_RETENTION", "1h"],
        ["LOGGER", "zap"],
        ["LOG_OUTPUTS", "stderr"],
    ];
    return `# etcd ${s.member.name} of ${s.clusterName}; each ETCD_<X> is the flag --<x>. Rendered by kaws.\n`
        + settings.map(([key, value]) => `ETCD_${key}=${value}\n`).join("");
}

/** The etcd service: runs as the etcd user, refuses to start unless the data volume is mounted. */
export function renderEtcdUnit(): string {
    return `[Unit]
Description=etcd member (kaws)
Documentation=https://etcd.io/docs/v3.6/op-guide/configuration/
Wants=network-online.target
After=network-online.target kaws-etcd-boot.service

[Service]
Type=notify
User=etcd
Group=etcd
EnvironmentFile=${etcdPaths.environment}
EnvironmentFile=${etcdPaths.clusterState}
# Never run on the root disk: the data must live on the member's persistent volume.
ExecStartPre=/usr/bin/mountpoint -q ${etcdPaths.dataDir}
ExecStart=${etcdPaths.binDir}/etcd
Restart=always
RestartSec=5
TimeoutStartSec=0
LimitNOFILE=65536
IOSchedulingClass=best-effort
IOSchedulingPriority=0
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${etcdPaths.dataDir}
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;
}

/** etcdctl against this member over loopback, authenticating with the member's peer certificate (client auth). */
function localEtcdctl(): string {
    return `${etcdPaths.binDir}/etcdctl --endpoints=${clientUrl("127.0.0.1")} --cacert=${etcdPaths.caCert} --cert=${etcdPaths.peerCert} --key=${etcdPaths.peerKey}`;
}

export interface EtcdSnapshotSettings {
    readonly member: string;
    readonly bucket: string;
    readonly region: string;
    /** KMS key the uploaded snapshot is encrypted with. */
    readonly kmsKeyArn: string;
    /** Bucket prefix of etcd snapshots, ending in "/"; a lifecycle rule on it enforces retention. */
    readonly prefix: string;
}

/** Saves a snapshot of this member and uploads it to s3://<bucket>/<prefix><member>/<UTC time>.db. */
export function renderEtcdSnapshotScript(s: EtcdSnapshotSettings): string {
    return `#!/bin/bash
# Saves an etcd snapshot of ${s.member} and uploads it to s3://${s.bucket}/${s.prefix}${s.member}/ (SSE-KMS).
# Retention is a lifecycle rule on ${s.prefix} in the bucket.
set -euo pipefail
umask 077
workdir=$(mktemp -d /var/tmp/etcd-snapshot.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
stamp=$(date -u +%Y%m%dT%H%M%SZ)
snapshot="$workdir/${s.member}-$stamp.db"
${localEtcdctl()} --command-timeout=600s snapshot save "$snapshot"
# Refuses a corrupt file before it replaces anything in the bucket.
${etcdPaths.binDir}/etcdutl snapshot status "$snapshot" --write-out=table
aws s3 cp --only-show-errors --region "${s.region}" --sse aws:kms --sse-kms-key-id "${s.kmsKeyArn}" \\
  "$snapshot" "s3://${s.bucket}/${s.prefix}${s.member}/$stamp.db"
echo "uploaded s3://${s.bucket}/${s.prefix}${s.member}/$stamp.db"
`;
}

export function renderEtcdSnapshotService(): string {
    return `[Unit]
Description=Upload an etcd snapshot of this member to the assets bucket (kaws)
After=etcd.service
Requisite=etcd.service

[Service]
Type=oneshot
ExecStart=${etcdPaths.snapshotScript}
TimeoutStartSec=30min
IOSchedulingClass=idle
Nice=10
PrivateTmp=yes
`;
}

/** Fires every `intervalMinutes`, first one interval after boot. */
export function renderEtcdSnapshotTimer(intervalMinutes: number): string {
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1) {
        throw new Error(`etcd snapshot interval must be a positive whole number of minutes, got ${intervalMinutes}`);
    }
    return `[Unit]
Description=etcd snapshot every ${intervalMinutes} minutes (kaws)

[Timer]
OnBootSec=${intervalMinutes}min
OnUnitActiveSec=${intervalMinutes}min
RandomizedDelaySec=60
AccuracySec=1min

[Install]
WantedBy=timers.target
`;
}

/**
 * Restores this member from a snapshot (an s3:// URI or a local file) with the identity etcd runs
 * with, bumping revisions and marking them compacted so watchers (the API servers) resync instead of
 * seeing time go backwards. Run it on every member in turn while etcd is stopped on all of them.
 */
export function renderEtcdRestoreScript(region: string): string {
    return `#!/bin/bash
# Usage: kaws-etcd-restore <s3://bucket/key.db | /path/to/snapshot.db>
# Restores this member from the snapshot; see README "etcd: operations" for the whole procedure.
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
. ${etcdPaths.environment}
set +a
workdir=$(mktemp -d /var/tmp/etcd-restore.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
case "$1" in
  s3://*)
    aws s3 cp --only-show-errors --region "${region}" "$1" "$workdir/snapshot.db"
    snapshot="$workdir/snapshot.db"
    ;;
  *)
    snapshot="$1"
    ;;
esac
stamp=$(date -u +%Y%m%dT%H%M%SZ)
restored="$ETCD_DATA_DIR/restore-$stamp"
${etcdPaths.binDir}/etcdutl snapshot restore "$snapshot" \\
  --name "$ETCD_NAME" \\
  --initial-cluster "$ETCD_INITIAL_CLUSTER" \\
  --initial-cluster-token "$ETCD_INITIAL_CLUSTER_TOKEN" \\
  --initial-advertise-peer-urls "$ETCD_INITIAL_ADVERTISE_PEER_URLS" \\
  --data-dir "$restored" \\
  --bump-revision 1000000000 \\
  --mark-compacted
if [ -d "$ETCD_DATA_DIR/member" ]; then
  mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.before-restore-$stamp"
  echo "previous data kept in $ETCD_DATA_DIR/member.before-restore-$stamp (delete it once the cluster is healthy)"
fi
mv "$restored/member" "$ETCD_DATA_DIR/member"
rmdir "$restored"
chown -R etcd:etcd "$ETCD_DATA_DIR"
chmod 0700 "$ETCD_DATA_DIR"
install -m 0600 /dev/null ${etcdPaths.clusterState}
echo "ETCD_INITIAL_CLUSTER_STATE=existing" > ${etcdPaths.clusterState}
systemctl start --no-block etcd.service
echo "$ETCD_NAME restored and starting; restore the next member now. Once all run: ${localEtcdctl()} endpoint health --cluster"
`;
}

export interface EtcdBootSettings {
    readonly clusterName: string;
    readonly member: EtcdPeer;
    /** The member's private subnet (its fixed ENI's network). */
    readonly subnetCidr: string;
    /** The other members' fixed IPs. */
    readonly peerIps: readonly string[];
    readonly etcdVersion: string;
    /** sha256 of etcd-v<version>-linux-<arch>.tar.gz per architecture. */
    readonly etcdSha256: Readonly<Record<"amd64" | "arm64", string>>;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Runs at every boot (kaws-etcd-boot.service), idempotently: attaches the member's ENI and data volume
 * (found by tag), routes peer traffic from the fixed IP, formats the volume only when it is blank, mounts
 * it, installs the member's files and the pinned etcd release (checksum verified), then starts etcd as
 * `new` on a blank volume or `existing` when it holds data.
 */
export function renderEtcdBootScript(s: EtcdBootSettings): string {
    for (const [arch, sum] of Object.entries(s.etcdSha256)) {
        if (!sha256Pattern.test(sum)) throw new Error(`etcd ${s.etcdVersion} ${arch}: sha256 "${sum}" is not a 64-hex-digit checksum; fill it from the release's SHA256SUMS`);
    }
    const subnet = new Netmask(s.subnetCidr);
    const peerIps = s.peerIps.join(" ");
    const onLinkPeers = s.peerIps.filter((ip) => subnet.contains(ip)).join(" ");
    const routedPeers = s.peerIps.filter((ip) => !subnet.contains(ip)).join(" ");
    return `#!/bin/bash
# kaws: boots etcd member ${s.member.name} of ${s.clusterName}. Runs at every boot; every step is idempotent.
set -euo pipefail
member="${s.member.name}"
cluster="${s.clusterName}"
fixed_ip="${s.member.ip}"
subnet_prefix="${subnet.bitmask}"
peer_ips="${peerIps}"
# Peers in this member's subnet are reached directly, the others through the subnet's router.
on_link_peer_ips="${onLinkPeers}"
routed_peer_ips="${routedPeers}"
data_dir="${etcdPaths.dataDir}"
etcd_version="${s.etcdVersion}"
etcd_sha256_amd64="${s.etcdSha256.amd64}"
etcd_sha256_arm64="${s.etcdSha256.arm64}"
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

# Resources of this member carry kaws:cluster=<cluster> and ${etcdMemberTag}=<member>.
find_tagged() {
  aws ec2 "describe-$1" --filters "Name=tag:kaws:cluster,Values=$cluster" "Name=tag:${etcdMemberTag},Values=$member" \\
    --query "$2" --output text
}
eni_id=$(find_tagged network-interfaces 'NetworkInterfaces[0].NetworkInterfaceId')
volume_id=$(find_tagged volumes 'Volumes[0].VolumeId')
[[ "$eni_id" == eni-* ]] || fail "no ENI tagged ${etcdMemberTag}=$member"
[[ "$volume_id" == vol-* ]] || fail "no volume tagged ${etcdMemberTag}=$member"

# Attaches when free; while the previous instance still holds it (it is being terminated), waits.
attach_eni() {
  local status owner
  read -r status owner < <(aws ec2 describe-network-interfaces --network-interface-ids "$eni_id" \\
    --query 'NetworkInterfaces[0].[Status,Attachment.InstanceId]' --output text)
  [ "$owner" = "$instance_id" ] && return 0
  [ "$status" = available ] || return 1
  aws ec2 attach-network-interface --network-interface-id "$eni_id" --instance-id "$instance_id" --device-index 1 >/dev/null
  return 1
}
attach_volume() {
  local state owner
  read -r state owner < <(aws ec2 describe-volumes --volume-ids "$volume_id" \\
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
printf '[Network]\\nManageForeignRoutes=no\\n' > /etc/systemd/networkd.conf.d/kaws-etcd.conf
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
  for candidate in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\${volume_id/-/}" /dev/xvdf /dev/sdf; do
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

${etcdPaths.fetchScript}

case "$(uname -m)" in
  x86_64) arch=amd64; expected_sha256=$etcd_sha256_amd64 ;;
  aarch64) arch=arm64; expected_sha256=$etcd_sha256_arm64 ;;
  *) fail "unsupported architecture $(uname -m)" ;;
esac
[[ "$expected_sha256" =~ ^[0-9a-f]{64}$ ]] || fail "no verified sha256 for etcd $etcd_version $arch; refusing to install"
installed=$(${etcdPaths.binDir}/etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }' || true)
if [ "$installed" != "$etcd_version" ]; then
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  archive="etcd-v$etcd_version-linux-$arch"
  retry 5 curl -fsSL --proto '=https' -o "$download/$archive.tar.gz" \\
    "https://github.com/etcd-io/etcd/releases/download/v$etcd_version/$archive.tar.gz"
  echo "$expected_sha256  $download/$archive.tar.gz" | sha256sum --check --quiet - || fail "etcd $etcd_version checksum mismatch"
  tar -xzf "$download/$archive.tar.gz" -C "$download"
  install -m 0755 "$download/$archive/etcd" "$download/$archive/etcdctl" "$download/$archive/etcdutl" ${etcdPaths.binDir}/
fi

# existing: the volume holds this member's data, or it is blank and the running cluster lists this member
# (a replaced volume after \`etcdctl member add\`, or a member starting after its peers); new: it is blank
# and no peer answers, the first start of the cluster. A running cluster without this member is refused.
cluster_state() {
  local endpoints="" peer listed
  if [ -d "$data_dir/member" ]; then echo existing; return; fi
  for peer in $peer_ips; do endpoints="$endpoints\${endpoints:+,}https://$peer:${etcdPorts.client}"; done
  if [ -z "$endpoints" ]; then echo new; return; fi
  if ! listed=$(${etcdPaths.binDir}/etcdctl --endpoints="$endpoints" --cacert=${etcdPaths.caCert} --cert=${etcdPaths.peerCert} \\
    --key=${etcdPaths.peerKey} --dial-timeout=3s --command-timeout=10s member list 2>/dev/null); then
    echo new
    return
  fi
  if grep -qF "https://$fixed_ip:${etcdPorts.peer}" <<<"$listed"; then echo existing; return; fi
  fail "the running cluster does not list $member; on a healthy member run: etcdctl member add $member --peer-urls=https://$fixed_ip:${etcdPorts.peer}"
}
state=$(cluster_state)
install -m 0600 /dev/null ${etcdPaths.clusterState}
echo "ETCD_INITIAL_CLUSTER_STATE=$state" > ${etcdPaths.clusterState}
log "starting $member ($state) on $fixed_ip"
systemctl daemon-reload
systemctl enable etcd.service kaws-etcd-snapshot.timer
# A member of a new cluster waits for its peers; do not hold the boot unit meanwhile.
systemctl start --no-block etcd.service kaws-etcd-snapshot.timer
`;
}

/** Runs the boot script once per boot, before etcd. */
export function renderEtcdBootUnit(): string {
    return `[Unit]
Description=Attach this etcd member's ENI and data volume, install etcd and its files (kaws)
Wants=network-online.target
After=network-online.target
Before=etcd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${etcdPaths.bootScript}
TimeoutStartSec=30min

[Install]
WantedBy=multi-user.target
`;
}

/** EC2 user data of a member: installs the boot unit, its script and the file fetcher, then starts the unit. */
export function renderEtcdUserData(bootScript: string, fetchScript: string): string {
    return renderCloudConfig({
        files: [
            { path: etcdPaths.fetchScript, permissions: "0700", content: fetchScript },
            { path: etcdPaths.bootScript, permissions: "0700", content: bootScript },
            { path: etcdPaths.bootUnit, permissions: "0644", content: renderEtcdBootUnit() },
        ],
        runcmd: [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "kaws-etcd-boot.service"],
            ["systemctl", "start", "--no-block", "kaws-etcd-boot.service"],
        ],
    });
}
