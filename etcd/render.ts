import { ports } from "../plan/cluster";
import { Netmask } from "netmask";
import { renderCloudConfig } from "../nodes/cloudInit";
import { renderShellScript } from "../nodes/shellScript";

/** Ports of an etcd member: clients (TLS), peers (TLS) and plain-HTTP metrics on localhost only. */
/** etcd's ports: the cluster-wide ones from the plan, and its loopback-only metrics listener. */
export const etcdPorts = { client: ports.etcdClient, peer: ports.etcdPeer, metrics: 2381 } as const;

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
function localEtcdctlValues() {
    return {
        KAWS_ETCD_BIN_DIR: etcdPaths.binDir,
        KAWS_ETCD_ENDPOINT: clientUrl("127.0.0.1"),
        KAWS_ETCD_CA_CERT: etcdPaths.caCert,
        KAWS_ETCD_PEER_CERT: etcdPaths.peerCert,
        KAWS_ETCD_PEER_KEY: etcdPaths.peerKey,
    };
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
    return renderShellScript("etcd/snapshot.sh", {
        KAWS_MEMBER: s.member,
        KAWS_BUCKET: s.bucket,
        KAWS_PREFIX: s.prefix,
        KAWS_REGION: s.region,
        KAWS_KMS_KEY_ARN: s.kmsKeyArn,
        ...localEtcdctlValues(),
    }, `Saves an etcd snapshot of ${s.member} and uploads it to s3://${s.bucket}/${s.prefix}${s.member}/ (SSE-KMS).`);
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
    return renderShellScript("etcd/restore.sh", {
        KAWS_REGION: region,
        KAWS_ETCD_ENVIRONMENT: etcdPaths.environment,
        KAWS_ETCD_CLUSTER_STATE: etcdPaths.clusterState,
        ...localEtcdctlValues(),
    }, "kaws-etcd-restore: restores this etcd member from a snapshot.");
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
    return renderShellScript("etcd/boot.sh", {
        KAWS_CLUSTER: s.clusterName,
        KAWS_MEMBER: s.member.name,
        KAWS_MEMBER_TAG: etcdMemberTag,
        KAWS_FIXED_IP: s.member.ip,
        KAWS_SUBNET_PREFIX: subnet.bitmask,
        KAWS_PEER_IPS: s.peerIps.join(" "),
        KAWS_ON_LINK_PEER_IPS: s.peerIps.filter((ip) => subnet.contains(ip)).join(" "),
        KAWS_ROUTED_PEER_IPS: s.peerIps.filter((ip) => !subnet.contains(ip)).join(" "),
        KAWS_ETCD_VERSION: s.etcdVersion,
        KAWS_ETCD_SHA256_AMD64: s.etcdSha256.amd64,
        KAWS_ETCD_SHA256_ARM64: s.etcdSha256.arm64,
        KAWS_ETCD_DATA_DIR: etcdPaths.dataDir,
        KAWS_ETCD_BIN_DIR: etcdPaths.binDir,
        KAWS_ETCD_CA_CERT: etcdPaths.caCert,
        KAWS_ETCD_PEER_CERT: etcdPaths.peerCert,
        KAWS_ETCD_PEER_KEY: etcdPaths.peerKey,
        KAWS_ETCD_CLUSTER_STATE: etcdPaths.clusterState,
        KAWS_FETCH_FILES: etcdPaths.fetchScript,
        KAWS_ETCD_CLIENT_PORT: etcdPorts.client,
        KAWS_ETCD_PEER_PORT: etcdPorts.peer,
    }, `kaws: boots etcd member ${s.member.name} of ${s.clusterName}. Runs at every boot; every step is idempotent.`);
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
