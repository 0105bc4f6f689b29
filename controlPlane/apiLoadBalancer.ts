import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, apiEndpointOf, ports } from "../plan/cluster";

export interface ApiLoadBalancerArgs {
    /** Cluster name (the NLB is "<name>-api", its target group "<name>-api-tg"), the VPC range, the scheme and allowed CIDRs. */
    readonly plan: ClusterPlan;
    readonly vpcId: pulumi.Input<string>;
    /** Subnets the NLB lives in: public ones for internet-facing, private ones for internal. */
    readonly subnetIds: pulumi.Input<string>[];
    /**
     * Public IPs node traffic leaves the VPC through (the NAT gateways). An internet-facing API must admit
     * them: workers and kube-proxy reach its public address through NAT, not from inside the VPC range.
     */
    readonly nodeEgressIps?: pulumi.Input<string>[];
    /** The cluster's private zone, where an internal API's name (plan.apiDnsName) is an alias of the NLB. */
    readonly privateZoneId: pulumi.Input<string>;
}

/**
 * The API endpoint: a cross-zone Network Load Balancer on TCP 6443 whose security group admits only the
 * VPC and the allowed CIDRs, forwarding to the control-plane instances registered by their ASG. An internal
 * API is reached by the plan's name, api.<cluster>.internal, an alias of the NLB in the cluster's private zone.
 */
export class ApiLoadBalancer extends pulumi.ComponentResource {
    readonly loadBalancer: aws.lb.LoadBalancer;
    readonly targetGroup: aws.lb.TargetGroup;
    readonly securityGroup: aws.ec2.SecurityGroup;
    /** The NLB's own DNS name (what a user-supplied kaws:apiDnsName must point at). */
    readonly loadBalancerDnsName: pulumi.Output<string>;
    /**
     * The name clients reach the API by: the plan's (a plain value: what uses it does not wait for the NLB),
     * else, for an internet-facing API without kaws:apiDnsName, the NLB's own.
     */
    readonly dnsName: pulumi.Output<string>;
    /** https://<dnsName>:6443 */
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: ApiLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:controlplane:ApiLoadBalancer", name, {}, opts);
        const { clusterName } = args.plan;
        const vpcCidr = args.plan.config.network.vpcCidr;
        const { apiAccess: scheme, allowedCidrs } = args.plan.config.controlPlane;
        const apiPort = ports.api;
        const sources = [vpcCidr, ...allowedCidrs.filter((cidr) => cidr !== vpcCidr)];
        this.securityGroup = new aws.ec2.SecurityGroup(`${name}-api-lb`, {
            vpcId: args.vpcId,
            description: `Kubernetes API load balancer of ${clusterName}`,
            ingress: [
                { protocol: "tcp", fromPort: apiPort, toPort: apiPort, cidrBlocks: sources, description: "Kubernetes API" },
                ...(scheme === "internet-facing" && args.nodeEgressIps && args.nodeEgressIps.length > 0
                    ? [{ protocol: "tcp", fromPort: apiPort, toPort: apiPort, cidrBlocks: args.nodeEgressIps.map((ip) => pulumi.interpolate`${ip}/32`), description: "Kubernetes API from nodes through NAT" }]
                    : []),
            ],
            egress: [{ protocol: "tcp", fromPort: apiPort, toPort: apiPort, cidrBlocks: [vpcCidr], description: "to control-plane nodes" }],
            tags: { Name: `${clusterName}-api-lb` },
        }, { parent: this });

        this.loadBalancer = new aws.lb.LoadBalancer(`${name}-api`, {
            name: `${clusterName}-api`,
            loadBalancerType: "network",
            internal: scheme === "internal",
            subnets: args.subnetIds,
            securityGroups: [this.securityGroup.id],
            enableCrossZoneLoadBalancing: true,
        }, { parent: this });

        // /readyz answers anonymous requests: the API server's AuthenticationConfiguration admits anonymous
        // callers on /livez, /readyz and /healthz only (controlPlane/render.ts), so --anonymous-auth=false's
        // intent holds everywhere else and the NLB still drains an API server that is up but not ready.
        this.targetGroup = new aws.lb.TargetGroup(`${name}-api`, {
            name: `${clusterName}-api-tg`,
            vpcId: args.vpcId,
            port: apiPort,
            protocol: "TCP",
            targetType: "instance",
            deregistrationDelay: 30,
            healthCheck: {
                protocol: "HTTPS",
                port: String(apiPort),
                path: "/readyz",
                matcher: "200",
                interval: 10,
                healthyThreshold: 2,
                unhealthyThreshold: 2,
            },
        }, { parent: this });

        new aws.lb.Listener(`${name}-api`, {
            loadBalancerArn: this.loadBalancer.arn,
            port: apiPort,
            protocol: "TCP",
            defaultActions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
        }, { parent: this });

        if (scheme === "internal") {
            new aws.route53.Record(`${name}-api-dns`, {
                zoneId: args.privateZoneId,
                name: args.plan.apiDnsName!,
                type: "A",
                // Which control-plane nodes are healthy is the target group's business; the NLB answers in every AZ.
                aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: false }],
            }, { parent: this });
        }

        this.loadBalancerDnsName = this.loadBalancer.dnsName;
        this.dnsName = args.plan.apiDnsName === undefined ? this.loadBalancer.dnsName : pulumi.output(args.plan.apiDnsName);
        this.endpoint = this.dnsName.apply(apiEndpointOf);
        this.registerOutputs({ loadBalancerDnsName: this.loadBalancerDnsName, dnsName: this.dnsName, endpoint: this.endpoint });
    }
}
