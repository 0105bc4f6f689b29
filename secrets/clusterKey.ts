import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, holdsState } from "../plan/cluster";
import { Account } from "../nodes/context";

export interface ClusterKeyArgs {
    /** Cluster name (names the alias alias/kaws-<cluster>) and region (the CloudWatch Logs principal is regional). */
    readonly plan: ClusterPlan;
    /** The account that administers the key and whose log groups may use it. */
    readonly account: Account;
}

/**
 * The cluster's customer KMS key (rotation on, 30-day deletion window) and its alias. It is created first,
 * so everything that encrypts — node files, etcd snapshots, EBS volumes and the VPC flow-log group — can
 * use it.
 */
export class ClusterKey extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: ClusterKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:encryption:ClusterKey", name, {}, opts);
        const { plan, account } = args;
        // The key and alias were first created inside kaws:encryption:Encryption; the alias keeps their identity
        // (a replaced key would replace every volume encrypted with it).
        const formerParent = { parent: pulumi.createUrn(name, "kaws:encryption:Encryption") };

        this.key = new aws.kms.Key(`${name}-key`, {
            description: `kaws ${plan.clusterName}: node files, etcd snapshots, EBS volumes and flow logs`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: pulumi.all([account.id, account.partition, account.dnsSuffix, plan.region])
                .apply(([account, part, dnsSuffix, region]) => JSON.stringify(keyPolicy(account, part, region, dnsSuffix))),
        }, { parent: this, aliases: [formerParent], ...holdsState });
        new aws.kms.Alias(`${name}-key`, { name: `alias/kaws-${plan.clusterName}`, targetKeyId: this.key.keyId }, { parent: this, aliases: [formerParent] });
        this.arn = this.key.arn;

        this.registerOutputs({ arn: this.arn });
    }
}

/**
 * The key policy: the account administers the key and IAM policies may grant its use (node roles get
 * kms:Decrypt through S3 only, in their own policies). The Auto Scaling service-linked role may use it for
 * the encrypted volumes of the instances it launches; it is named by condition, not as a principal, so
 * the policy is valid in an account where that role does not exist yet. CloudWatch Logs may use it for
 * this account's log groups in this region only.
 */
export function keyPolicy(account: string, partition: string, region: string, dnsSuffix = "amazonaws.com"): object {
    const autoScaling = { StringEquals: { "aws:PrincipalArn": `arn:${partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, "aws:PrincipalAccount": account } };
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministersAndDelegatesToIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
            {
                Sid: "AutoScalingEncryptsVolumes",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: "*",
                Condition: autoScaling,
            },
            {
                Sid: "AutoScalingGrantsForVolumes",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "kms:CreateGrant",
                Resource: "*",
                Condition: { ...autoScaling, Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
            {
                Sid: "CloudWatchLogsEncryptsLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.${dnsSuffix}` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${account}:log-group:*` } },
            },
        ],
    };
}
