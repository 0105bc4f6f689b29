import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan } from "../plan/cluster";
import { NatInstance } from "./natInstance";

export interface NetworkArgs {
    /** Cluster name, VPC range, AZ count, NAT strategy, flow logs and the subnet plan (plain: they shape the graph). */
    readonly plan: ClusterPlan;
    /** ARN of the cluster's KMS key, which encrypts the flow-log group. */
    readonly kmsKeyArn: pulumi.Input<string>;
}

/**
 * One VPC with a public and a private subnet per AZ, NAT per strategy (gateways, or one instance) and an
 * S3 gateway endpoint. Default routes are resources of their own, so the endpoint and the route tables
 * never wait for a NAT gateway (about two minutes) and nodes reach S3 as soon as their subnet exists.
 */
export class Network extends pulumi.ComponentResource {
    readonly vpc: aws.ec2.Vpc;
    readonly vpcId: pulumi.Output<string>;
    /** The AZs used, in subnet order. */
    readonly azNames: pulumi.Output<string[]>;
    readonly publicSubnets: aws.ec2.Subnet[];
    readonly privateSubnets: aws.ec2.Subnet[];
    /** Private subnet CIDRs in AZ order, known before deployment. */
    readonly privateSubnetCidrs: readonly string[];
    readonly privateRouteTables: aws.ec2.RouteTable[];
    /**
     * Private subnet ids, each resolving once the subnet's route table and the S3 gateway endpoint on it
     * exist: nodes launched into them reach the Amazon Linux repositories and their files in S3 from the
     * start. They do not wait for the NAT route: a NAT gateway takes about two minutes, and the boot scripts
     * retry what they fetch from the internet (pkgs.k8s.io, github.com) until it is there.
     */
    readonly nodeSubnetIds: pulumi.Output<string>[];
    /** The public addresses private traffic leaves from: one per NAT gateway, or the NAT instance's. */
    readonly egressIps: pulumi.Output<string>[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:network:Network", name, {}, opts);
        const { plan } = args;
        const network = plan.config.network;
        const clusterName = plan.clusterName;
        this.privateSubnetCidrs = plan.subnets.privateCidrs;

        const zones = aws.getAvailabilityZonesOutput(
            { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
            { parent: this },
        );
        this.azNames = zones.names.apply((names) => {
            if (names.length < network.azCount) {
                throw new Error(`kaws:azCount: ${network.azCount} exceeds the ${names.length} availability zones this region offers`);
            }
            return [...names].sort().slice(0, network.azCount);
        });

        this.vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: network.vpcCidr,
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: { Name: clusterName },
        }, { parent: this });
        this.vpcId = this.vpc.id;

        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, {
            vpcId: this.vpc.id,
            ingress: [],
            egress: [],
            tags: { Name: `${clusterName}-default-closed` },
        }, { parent: this });

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, {
            vpcId: this.vpc.id,
            tags: { Name: clusterName },
        }, { parent: this });

        const azAt = (i: number) => this.azNames.apply((names) => names[i]);
        this.publicSubnets = plan.subnets.publicCidrs.map((cidr, i) => new aws.ec2.Subnet(`${name}-public-${i}`, {
            vpcId: this.vpc.id,
            cidrBlock: cidr,
            availabilityZone: azAt(i),
            mapPublicIpOnLaunch: false,
            tags: { Name: pulumi.interpolate`${clusterName}-public-${azAt(i)}`, "kubernetes.io/role/elb": "1" },
        }, { parent: this }));
        this.privateSubnets = plan.subnets.privateCidrs.map((cidr, i) => new aws.ec2.Subnet(`${name}-private-${i}`, {
            vpcId: this.vpc.id,
            cidrBlock: cidr,
            availabilityZone: azAt(i),
            mapPublicIpOnLaunch: false,
            tags: { Name: pulumi.interpolate`${clusterName}-private-${azAt(i)}`, "kubernetes.io/role/internal-elb": "1" },
        }, { parent: this }));

        const publicRouteTable = new aws.ec2.RouteTable(`${name}-public`, {
            vpcId: this.vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
            tags: { Name: `${clusterName}-public` },
        }, { parent: this });
        this.publicSubnets.forEach((subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, {
            subnetId: subnet.id,
            routeTableId: publicRouteTable.id,
        }, { parent: this }));

        const natCount = { perAz: network.azCount, single: 1, instance: 0, none: 0 }[network.natGateways];
        const natGateways = [...Array(natCount).keys()].map((i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, {
                domain: "vpc",
                tags: { Name: pulumi.interpolate`${clusterName}-nat-${azAt(i)}` },
            }, { parent: this, dependsOn: [igw] });
            return new aws.ec2.NatGateway(`${name}-nat-${i}`, {
                allocationId: eip.id,
                subnetId: this.publicSubnets[i].id,
                tags: { Name: pulumi.interpolate`${clusterName}-nat-${azAt(i)}` },
            }, { parent: this, dependsOn: [igw] });
        });

        const natInstance = network.natGateways === "instance"
            ? new NatInstance(`${name}-nat-instance`, { plan, vpcId: this.vpc.id, subnetId: this.publicSubnets[0].id, kmsKeyArn: args.kmsKeyArn }, { parent: this, dependsOn: [igw] })
            : undefined;
        this.egressIps = natInstance ? [natInstance.publicIp] : natGateways.map((nat) => nat.publicIp);

        // One route table per private subnet, so moving between NAT strategies never re-associates subnets.
        const egress = this.privateSubnets.map((subnet, i) => {
            const table = new aws.ec2.RouteTable(`${name}-private-${i}`, {
                vpcId: this.vpc.id,
                tags: { Name: pulumi.interpolate`${clusterName}-private-${azAt(i)}` },
            }, { parent: this });
            const nat = natGateways[Math.min(i, natGateways.length - 1)];
            const target = nat ? { natGatewayId: nat.id } : natInstance ? { networkInterfaceId: natInstance.networkInterfaceId } : undefined;
            if (target) {
                new aws.ec2.Route(`${name}-private-${i}-default`, {
                    routeTableId: table.id,
                    destinationCidrBlock: "0.0.0.0/0",
                    ...target,
                }, { parent: this });
            }
            const association = new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, {
                subnetId: subnet.id,
                routeTableId: table.id,
            }, { parent: this });
            return { table, association };
        });
        this.privateRouteTables = egress.map((e) => e.table);

        const s3Endpoint = new aws.ec2.VpcEndpoint(`${name}-s3`, {
            vpcId: this.vpc.id,
            serviceName: pulumi.interpolate`com.amazonaws.${plan.region}.s3`,
            vpcEndpointType: "Gateway",
            routeTableIds: [publicRouteTable.id, ...this.privateRouteTables.map((table) => table.id)],
            tags: { Name: `${clusterName}-s3` },
        }, { parent: this });
        this.nodeSubnetIds = this.privateSubnets.map((subnet, i) => pulumi.all([subnet.id, egress[i].association.id, s3Endpoint.id]).apply(([id]) => id));

        if (network.flowLogs) this.createFlowLogs(name, args);

        this.registerOutputs({
            vpcId: this.vpcId,
            azNames: this.azNames,
            publicSubnetIds: this.publicSubnets.map((s) => s.id),
            privateSubnetIds: this.privateSubnets.map((s) => s.id),
        });
    }

    /** Subnet ids keyed by AZ name. */
    subnetIdsByAz(subnets: aws.ec2.Subnet[]): pulumi.Output<Record<string, string>> {
        return pulumi.all([this.azNames, pulumi.all(subnets.map((s) => s.id))]).apply(([names, ids]) =>
            Object.fromEntries(names.map((az, i) => [az, ids[i]])));
    }

    private createFlowLogs(name: string, args: NetworkArgs): void {
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
            name: `/kaws/${args.plan.clusterName}/vpc-flow-logs`,
            retentionInDays: args.plan.config.network.flowLogRetentionDays,
            kmsKeyId: args.kmsKeyArn,
        }, { parent: this });
        const role = new aws.iam.Role(`${name}-flow-logs`, {
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        }, { parent: this });
        new aws.iam.RolePolicy(`${name}-flow-logs`, {
            role: role.id,
            policy: logGroup.arn.apply((arn) => JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    Resource: [arn, `${arn}:*`],
                }],
            })),
        }, { parent: this });
        new aws.ec2.FlowLog(`${name}-flow-logs`, {
            vpcId: this.vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: logGroup.arn,
            iamRoleArn: role.arn,
            maxAggregationInterval: 60,
        }, { parent: this });
    }
}
