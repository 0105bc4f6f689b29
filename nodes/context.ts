import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** The AWS account and partition the stack deploys into, looked up once. */
export interface Account {
    readonly id: pulumi.Output<string>;
    readonly partition: pulumi.Output<string>;
    /** DNS suffix of the partition's service endpoints (amazonaws.com). */
    readonly dnsSuffix: pulumi.Output<string>;
}

export function lookupAccount(provider: aws.Provider): Account {
    const partition = aws.getPartitionOutput({}, { provider });
    return { id: aws.getCallerIdentityOutput({}, { provider }).accountId, partition: partition.partition, dnsSuffix: partition.dnsSuffix };
}

/** A certificate and its key, as secrets/ issues them. */
export interface KeyPair {
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
}

/** A private subnet as node groups need it: its id, AZ and (planned, so plain) CIDR. */
export interface NodeSubnet {
    readonly id: pulumi.Output<string>;
    readonly availabilityZone: pulumi.Output<string>;
    readonly cidr: string;
}

/**
 * What the node groups (etcd members, control plane, worker pools) share from the components built before
 * them: the account, the cluster key, the assets bucket, the cluster CA, the bootstrap token, the private
 * subnets and the private zone.
 */
export interface ClusterContext {
    readonly account: Account;
    readonly keyArn: pulumi.Output<string>;
    readonly bucket: { readonly name: pulumi.Output<string>; readonly arn: pulumi.Output<string> };
    readonly clusterCaCertPem: pulumi.Output<string>;
    readonly bootstrapToken: { readonly id: pulumi.Output<string>; readonly secret: pulumi.Output<string> };
    readonly vpcId: pulumi.Output<string>;
    /** One per AZ, in AZ order. */
    readonly privateSubnets: readonly NodeSubnet[];
    /** The cluster's private Route53 zone (etcd member names, the nodes' API name). */
    readonly privateZoneId: pulumi.Output<string>;
}
