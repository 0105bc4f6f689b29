import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, ports } from "../plan/cluster";

export interface SecurityGroupsArgs {
    /** Cluster name (names the groups <cluster>-etcd, -controlplane, -workers) and the VPC range (the DNS resolver, the internal API load balancer). */
    readonly plan: ClusterPlan;
    readonly vpcId: pulumi.Input<string>;
    /** Security group of the API load balancer (from ApiLoadBalancer). */
    readonly apiLoadBalancerSecurityGroupId: pulumi.Input<string>;
}

type Protocol = "tcp" | "udp" | typeof ports.weave.espProtocol | "-1";

interface Rule {
    readonly protocol: Protocol;
    readonly from?: number;
    readonly to?: number;
    readonly description: string;
}

/**
 * The cluster's security groups, one per node kind, and every rule between them as a separate rule
 * resource (groups first, rules after: no construction-order cycles). Nothing is open to 0.0.0.0/0
 * inbound; each instance carries exactly one of these groups, which is what the cloud-controller-manager
 * expects when it opens NodePorts for load balancers (it edits the group tagged for the cluster).
 */
export class SecurityGroups extends pulumi.ComponentResource {
    readonly etcd: aws.ec2.SecurityGroup;
    readonly controlPlane: aws.ec2.SecurityGroup;
    readonly workers: aws.ec2.SecurityGroup;

    constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:network:SecurityGroups", name, {}, opts);
        const vpcCidr = args.plan.config.network.vpcCidr;
        const group = (kind: string, description: string) => new aws.ec2.SecurityGroup(`${name}-${kind}`, {
            vpcId: args.vpcId,
            description,
            tags: { Name: `${args.plan.clusterName}-${kind}` },
        }, { parent: this });
        this.etcd = group("etcd", `etcd members of ${args.plan.clusterName}`);
        this.controlPlane = group("controlplane", `Kubernetes control-plane nodes of ${args.plan.clusterName}`);
        this.workers = group("workers", `Kubernetes worker nodes of ${args.plan.clusterName}`);

        const groups = { etcd: this.etcd, controlplane: this.controlPlane, workers: this.workers };
        type Kind = keyof typeof groups;
        const nodeKinds: Kind[] = ["controlplane", "workers"];

        const ruleArgs = (rule: Rule) => ({
            ipProtocol: rule.protocol,
            fromPort: rule.from,
            toPort: rule.to ?? rule.from,
            description: rule.description,
        });
        /** Allows `rule` from group `source` into group `target`: the target's ingress and the source's egress. */
        const allow = (source: Kind, target: Kind, id: string, rule: Rule, sourceHasOpenEgress = false) => {
            new aws.vpc.SecurityGroupIngressRule(`${name}-${target}-in-${id}-from-${source}`, {
                securityGroupId: groups[target].id,
                referencedSecurityGroupId: groups[source].id,
                ...ruleArgs(rule),
            }, { parent: this });
            if (sourceHasOpenEgress) return;
            new aws.vpc.SecurityGroupEgressRule(`${name}-${source}-out-${id}-to-${target}`, {
                securityGroupId: groups[source].id,
                referencedSecurityGroupId: groups[target].id,
                ...ruleArgs(rule),
            }, { parent: this });
        };
        const workersOpenEgress = (source: Kind) => source === "workers";

        // etcd: clients (API servers, and members themselves for health checks) on 2379, peers on 2380 only.
        for (const source of ["controlplane", "etcd"] as Kind[]) {
            allow(source, "etcd", "etcd-client", { protocol: "tcp", from: ports.etcdClient, description: "etcd clients" });
        }
        allow("etcd", "etcd", "etcd-peer", { protocol: "tcp", from: ports.etcdPeer, description: "etcd peers" });

        // Kubernetes API: from the load balancer and from every node (kubelets, kube-proxy, add-ons).
        new aws.vpc.SecurityGroupIngressRule(`${name}-controlplane-in-api-from-lb`, {
            securityGroupId: this.controlPlane.id,
            referencedSecurityGroupId: args.apiLoadBalancerSecurityGroupId,
            ...ruleArgs({ protocol: "tcp", from: ports.api, description: "Kubernetes API through the load balancer" }),
        }, { parent: this });
        for (const source of nodeKinds) {
            allow(source, "controlplane", "api", { protocol: "tcp", from: ports.api, description: "Kubernetes API" }, workersOpenEgress(source));
        }

        // kubelet API: only the API servers call it (logs, exec, port-forward, metrics via the aggregator).
        for (const target of nodeKinds) {
            allow("controlplane", target, "kubelet", { protocol: "tcp", from: ports.kubelet, description: "kubelet API" });
        }

        // Weave Net between every pair of Kubernetes nodes.
        for (const source of nodeKinds) {
            for (const target of nodeKinds) {
                const open = workersOpenEgress(source);
                allow(source, target, "weave-tcp", { protocol: "tcp", from: ports.weave.tcp, description: "weave control" }, open);
                allow(source, target, "weave-udp", { protocol: "udp", from: ports.weave.udpFrom, to: ports.weave.udpTo, description: "weave data" }, open);
                allow(source, target, "weave-esp", { protocol: ports.weave.espProtocol, description: "weave encrypted fast datapath (ESP)" }, open);
            }
        }

        // Outbound beyond the cluster. etcd and control-plane nodes: HTTPS (AWS APIs through NAT or the S3
        // endpoint, registries, release downloads) and the VPC's DNS resolver. The API servers also reach
        // the internal API load balancer. Workers: all egress, because their pods' traffic leaves as theirs
        // and workloads' destinations are the cluster owner's policy (NetworkPolicy), not the node's.
        const egressTo = (kind: Kind, id: string, cidr: string, rule: Rule) => new aws.vpc.SecurityGroupEgressRule(`${name}-${kind}-out-${id}`, {
            securityGroupId: groups[kind].id,
            cidrIpv4: cidr,
            ...ruleArgs(rule),
        }, { parent: this });
        for (const kind of ["etcd", "controlplane"] as Kind[]) {
            egressTo(kind, "https", "0.0.0.0/0", { protocol: "tcp", from: 443, description: "HTTPS: AWS APIs, registries, releases" });
            egressTo(kind, "dns-udp", vpcCidr, { protocol: "udp", from: 53, description: "Amazon DNS resolver" });
            egressTo(kind, "dns-tcp", vpcCidr, { protocol: "tcp", from: 53, description: "Amazon DNS resolver" });
        }
        egressTo("controlplane", "api-lb", vpcCidr, { protocol: "tcp", from: ports.api, description: "Kubernetes API load balancer" });
        egressTo("workers", "all", "0.0.0.0/0", { protocol: "-1", description: "workloads and node traffic" });

        this.registerOutputs({ etcd: this.etcd.id, controlPlane: this.controlPlane.id, workers: this.workers.id });
    }
}
