import { Netmask, ip2long, long2ip } from "netmask";
import { ClusterConfig, WorkerPoolConfig, poolLabel } from "./config";
import { internalDomain, planEtcdMembers } from "./etcdPlan";
import { SubnetPlan, planSubnets } from "./subnetPlan";
import { clusterTags } from "./tags";
import { ReleasePins, etcdReleaseSha256, pinsFor } from "./versions";

/** Ports kaws's nodes listen on; security groups, URLs and health checks all use these. */
export const ports = {
    api: 6443,
    kubelet: 10250,
    etcdClient: 2379,
    etcdPeer: 2380,
    /** Weave Net: TCP 6783 control, UDP 6783-6784 data (sleeve / fast datapath), ESP for encrypted fast datapath. */
    weave: { tcp: 6783, udpFrom: 6783, udpTo: 6784, espProtocol: "50" },
} as const;

/** The local API server every component on a control-plane node talks to (never the NLB: no hairpin). */
export const localApiServer = `https://127.0.0.1:${ports.api}`;

/**
 * Resource options of what holds the cluster's state (etcd data volumes and fixed ENIs, the cluster key, the
 * assets bucket): the engine refuses to delete or replace them, so a plain `pulumi up` cannot lose them. kaws
 * unprotects exactly what a confirmed plan removes (automation/driver.ts up), and everything for destroy.
 */
export const holdsState = { protect: true } as const;

/** Node role of the control plane: names its files' bucket prefix, its IAM role and its kaws:role tag. */
export const controlPlaneRole = "controlplane";

export const nodeLabels = {
    /** Label and taint kaws control-plane nodes carry (applied after registration); AWS-calling add-ons run there. */
    controlPlaneRole: "node-role.kubernetes.io/control-plane",
    /**
     * Label every control-plane kubelet registers with (kubelets may set kaws.io/ labels on themselves), so
     * add-ons can tell control-plane nodes apart before the node-role label is applied.
     */
    controlPlaneNode: { key: "kaws.io/role", value: "control-plane" },
    /** Keeps a node out of Service load balancers (the service controller neither targets it nor opens NodePorts to it). */
    excludeFromLoadBalancers: "node.kubernetes.io/exclude-from-external-load-balancers",
    /** The pool a worker belongs to. */
    pool: poolLabel,
} as const;

/** The pod network's DaemonSet (weave-net, installed by the add-ons stage); nodes are Ready only once it runs. */
export const podNetworkDaemonSet = { namespace: "kube-system", name: "weave-net" } as const;

/** Where things live in the assets bucket. */
export const bucketPrefixes = {
    /** A node role's files: nodes/<role>. */
    nodes: (role: string) => `nodes/${role}`,
    etcdBackups: "backups/etcd/",
} as const;

/** Client identities kaws issues certificates for and grants in RBAC. */
export const identities = {
    /** Common name of the client certificate kube-apiserver presents to kubelets (logs, exec, port-forward). */
    apiServerKubeletClient: "kube-apiserver-kubelet-client",
} as const;

/** One etcd member: where it lives and how it is addressed, stable across instance replacements. */
export interface EtcdMember {
    readonly index: number;
    /** Member name, also its node role: etcd-<i>. */
    readonly name: string;
    /** Index of the AZ (and private subnet) the member lives in, round-robin. */
    readonly azIndex: number;
    /** Fixed private IP of the member's ENI. */
    readonly ip: string;
    /** Stable DNS name in the cluster's private zone. */
    readonly dnsName: string;
    readonly clientUrl: string;
    readonly peerUrl: string;
}

export interface WorkerPoolPlan {
    readonly config: WorkerPoolConfig;
    /** Node role: worker-<pool>. */
    readonly role: string;
    /** Labels its kubelets register with: the configured ones plus kaws.io/pool. */
    readonly nodeLabels: Readonly<Record<string, string>>;
    /** Kubernetes release of the pool's nodes: its own kubernetesVersion, else the cluster's. */
    readonly kubernetesVersion: string;
    /** Pins of that release: kubelet, kubectl and cri-tools packages and the pause image of the pool's nodes. */
    readonly pins: ReleasePins;
}

/**
 * The name kubelets and kube-proxy on workers reach the API by: a weighted record set in the private zone
 * that the control-plane nodes keep at the private IPs of their group's in-service instances
 * (controlPlane/api-record.sh), beside a weight-0 placeholder the stack creates, answered only until the first
 * node has written its set: the name always exists, so no resolver caches "no such name" (the zone's
 * negative TTL is 15 minutes), and the placeholder's short TTL lets the real answer through within seconds
 * (kops's dns-controller starts its records at the same placeholder address). Nodes then never wait for
 * the load balancer to provision or register targets, and no connection goes through it from a target.
 */
export interface NodeApi {
    /** control-plane.<cluster>.internal; a SAN of the API server certificate. */
    readonly dnsName: string;
    readonly endpoint: string;
    /** Set identifier of the record set the control-plane nodes write (weight 1). */
    readonly nodesSetIdentifier: string;
    /** Set identifier of the stack's placeholder (weight 0: answered only while the nodes' set is missing). */
    readonly placeholderSetIdentifier: string;
    /** The placeholder's address: TEST-NET-3 (RFC 5737), never routed. */
    readonly placeholderAddress: string;
    readonly placeholderTtlSeconds: number;
    /** TTL of the nodes' record set: how long a resolver may still hand out a replaced node's address. */
    readonly ttlSeconds: number;
}

/** Every fact derived from a cluster's configuration, computed once. */
export interface ClusterPlan {
    readonly config: ClusterConfig;
    readonly clusterName: string;
    readonly region: string;
    /** Tags every AWS resource carries (the AWS provider's default tags). */
    readonly tags: Readonly<Record<string, string>>;
    /** Versions of everything the cluster runs for the configured Kubernetes release (a pool may lag: its own pins). */
    readonly pins: ReleasePins;
    readonly subnets: SubnetPlan;
    /** Which subnets the API load balancer lives in: private for an internal API, public otherwise. */
    readonly apiSubnets: "private" | "public";
    /**
     * The name clients reach the API by, known before anything exists so that certificates and kubeconfigs
     * need not wait for the load balancer: api.<cluster>.internal, an alias of the NLB in the cluster's private
     * zone, for an internal API; kaws:apiDnsName for an internet-facing one. Undefined for an internet-facing
     * API without kaws:apiDnsName: the NLB's own name is used, so those wait for it.
     */
    readonly apiDnsName?: string;
    /** How nodes reach the API: straight to the control-plane nodes, never through the load balancer. */
    readonly nodeApi: NodeApi;
    readonly etcd: {
        /** The cluster's private DNS zone, where member names live. */
        readonly domain: string;
        readonly version: string;
        readonly sha256: Readonly<Record<"amd64" | "arm64", string>>;
        readonly members: readonly EtcdMember[];
    };
    readonly serviceIps: {
        /** The kubernetes Service (a SAN of the API server certificate). */
        readonly kubernetes: string;
        /** Cluster DNS. */
        readonly dns: string;
    };
    readonly workerPools: readonly WorkerPoolPlan[];
}

/** The n-th address of the service range (1 = the kubernetes service, 10 = cluster DNS by convention). */
export function serviceIp(serviceCidr: string, n: number): string {
    const block = new Netmask(serviceCidr);
    if (n < 1 || n >= block.size - 1) throw new Error(`serviceCidr ${serviceCidr} has no address number ${n}`);
    return long2ip(ip2long(block.base) + n);
}

/** Cluster DNS is the tenth address of the service range: the kube-dns Service and every kubelet's clusterDNS. */
export const clusterDnsIp = (serviceCidr: string) => serviceIp(serviceCidr, 10);

export const workerRole = (pool: string) => `worker-${pool}`;

/** The API's URL for a host name: https://<host>:6443. */
export const apiEndpointOf = (host: string) => `https://${host}:${ports.api}`;

/** The Auto Scaling group (and Name tag) of a node role: <cluster>-<role>. */
export const nodeGroupName = (clusterName: string, role: string) => `${clusterName}-${role}`;

export function planCluster(config: ClusterConfig): ClusterPlan {
    const subnets = planSubnets(config.network.vpcCidr, config.network.azCount);
    const pins = pinsFor(config.kubernetes.version);
    const domain = internalDomain(config.clusterName);
    const nodeApiDnsName = `control-plane.${domain}`;
    const sha256 = etcdReleaseSha256[pins.etcd];
    if (!sha256) throw new Error(`etcd ${pins.etcd} has no release checksums in plan/versions.ts; accepted: ${Object.keys(etcdReleaseSha256).join(" | ")}`);
    return {
        config,
        clusterName: config.clusterName,
        region: config.region,
        tags: clusterTags(config.clusterName, config.environment),
        pins,
        subnets,
        apiSubnets: config.controlPlane.apiAccess === "internal" ? "private" : "public",
        apiDnsName: config.controlPlane.apiAccess === "internal" ? `api.${domain}` : config.controlPlane.apiDnsName,
        nodeApi: {
            dnsName: nodeApiDnsName,
            endpoint: apiEndpointOf(nodeApiDnsName),
            nodesSetIdentifier: "control-plane-nodes",
            placeholderSetIdentifier: "placeholder",
            placeholderAddress: "203.0.113.123",
            placeholderTtlSeconds: 5,
            ttlSeconds: 30,
        },
        etcd: {
            domain,
            version: pins.etcd,
            sha256,
            members: planEtcdMembers(config.clusterName, subnets.privateCidrs, config.etcd.members).map((m) => ({
                ...m,
                clientUrl: `https://${m.ip}:${ports.etcdClient}`,
                peerUrl: `https://${m.ip}:${ports.etcdPeer}`,
            })),
        },
        serviceIps: { kubernetes: serviceIp(config.kubernetes.serviceCidr, 1), dns: clusterDnsIp(config.kubernetes.serviceCidr) },
        workerPools: config.workerPools.map((pool) => {
            const kubernetesVersion = pool.kubernetesVersion ?? config.kubernetes.version;
            return {
                config: pool,
                role: workerRole(pool.name),
                nodeLabels: { ...pool.labels, [nodeLabels.pool]: pool.name },
                kubernetesVersion,
                pins: pinsFor(kubernetesVersion),
            };
        }),
    };
}
