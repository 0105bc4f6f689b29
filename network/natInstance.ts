import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan } from "../plan/cluster";
import { instanceArchitecture, isBurstable } from "../plan/instanceTypes";
import { nodeImageId } from "../nodes/image";
import { renderShellScript } from "../nodes/shellScript";

export interface NatInstanceArgs {
    /** Cluster name, instance type, CPU credits, monitoring and the private subnet ranges it forwards. */
    readonly plan: ClusterPlan;
    readonly vpcId: pulumi.Input<string>;
    /** The public subnet it lives in (the first AZ's). */
    readonly subnetId: pulumi.Input<string>;
    /** The cluster key, which encrypts its root volume. */
    readonly kmsKeyArn: pulumi.Input<string>;
}

/** The Amazon Linux 2023 image's own size: the instance keeps no data. */
const rootVolumeSizeGiB = 8;

/** The NAT instance's boot script: forwarding on, nftables masquerade for the private subnets. */
export function renderNatInstanceScript(privateCidrs: readonly string[], clusterName: string): string {
    return renderShellScript("network/nat-instance.sh", { KAWS_PRIVATE_CIDRS: `{ ${privateCidrs.join(", ")} }` }, `NAT instance of ${clusterName}`);
}

/**
 * `natGateways: instance`: one small instance instead of NAT gateways, for clusters where an hour of lost
 * egress is acceptable (dev). Its network interface, Elastic IP and the routes to it belong to the stack,
 * so the instance needs no IAM role and no API call at boot; it is replaced (delete first: the interface
 * can be attached to one instance only) when its script or image changes, and EC2 auto-recovery moves it
 * off a failed host.
 */
export class NatInstance extends pulumi.ComponentResource {
    /** The interface private routes point 0.0.0.0/0 at. */
    readonly networkInterfaceId: pulumi.Output<string>;
    /** The address the cluster's egress traffic leaves from. */
    readonly publicIp: pulumi.Output<string>;

    constructor(name: string, args: NatInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:network:NatInstance", name, {}, opts);
        const { plan } = args;
        const settings = plan.config.network;
        const tags = { Name: `${plan.clusterName}-nat` };

        const securityGroup = new aws.ec2.SecurityGroup(name, {
            vpcId: args.vpcId,
            description: `NAT instance of ${plan.clusterName}: forwards the private subnets to the internet`,
            tags,
        }, { parent: this });
        plan.subnets.privateCidrs.forEach((cidr, i) => new aws.vpc.SecurityGroupIngressRule(`${name}-in-private-${i}`, {
            securityGroupId: securityGroup.id,
            cidrIpv4: cidr,
            ipProtocol: "-1",
            description: "traffic of a private subnet to forward",
        }, { parent: this }));
        new aws.vpc.SecurityGroupEgressRule(`${name}-out-all`, {
            securityGroupId: securityGroup.id,
            cidrIpv4: "0.0.0.0/0",
            ipProtocol: "-1",
            description: "forwarded traffic and the instance's package download",
        }, { parent: this });

        const networkInterface = new aws.ec2.NetworkInterface(name, {
            subnetId: args.subnetId,
            securityGroups: [securityGroup.id],
            sourceDestCheck: false,
            description: `NAT instance of ${plan.clusterName}`,
            tags,
        }, { parent: this });
        const address = new aws.ec2.Eip(name, {
            domain: "vpc",
            networkInterface: networkInterface.id,
            tags,
        }, { parent: this });

        new aws.ec2.Instance(name, {
            ami: nodeImageId(undefined, instanceArchitecture(settings.natInstanceType), this),
            instanceType: settings.natInstanceType,
            primaryNetworkInterface: { networkInterfaceId: networkInterface.id },
            userData: renderNatInstanceScript(plan.subnets.privateCidrs, plan.clusterName),
            userDataReplaceOnChange: true,
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
            rootBlockDevice: { volumeType: "gp3", volumeSize: rootVolumeSizeGiB, encrypted: true, kmsKeyId: args.kmsKeyArn, deleteOnTermination: true },
            ebsOptimized: true,
            monitoring: plan.config.nodes.detailedMonitoring,
            creditSpecification: isBurstable(settings.natInstanceType) ? { cpuCredits: plan.config.nodes.cpuCredits } : undefined,
            maintenanceOptions: { autoRecovery: "default" },
            tags,
            volumeTags: tags,
        }, { parent: this, deleteBeforeReplace: true, dependsOn: [address] });

        this.networkInterfaceId = networkInterface.id;
        this.publicIp = address.publicIp;
        this.registerOutputs({ networkInterfaceId: this.networkInterfaceId, publicIp: this.publicIp });
    }
}
