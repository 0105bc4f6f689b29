import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan } from "../plan/cluster";
import { ClusterContext } from "./context";

export interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: string[];
    readonly Resource: string | string[];
    readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface NodeRoleArgs {
    /** Node kind: etcd, controlplane or worker (plain: it names the role). */
    readonly kind: "etcd" | "controlplane" | "worker";
    /** Cluster name and region. */
    readonly plan: ClusterPlan;
    /** The assets bucket and the KMS key of its objects and the volumes. */
    readonly context: Pick<ClusterContext, "bucket" | "keyArn">;
    /** Bucket prefixes (no leading slash, may end in *) this kind may read, e.g. nodes/controlplane/. */
    readonly readPrefixes: readonly string[];
    /** Bucket prefixes this kind may write, e.g. backups/etcd/. */
    readonly writePrefixes?: readonly string[];
    /** Further statements this kind needs (cloud-controller-manager, ENI attachment, ...); never "*" actions. */
    readonly statements?: pulumi.Input<PolicyStatement[]>;
}

/**
 * The IAM identity of one node kind: a role EC2 assumes, SSM Session Manager access (no SSH), read access to
 * its own files in the assets bucket and decrypt through S3 only, plus what the kind itself needs.
 */
export class NodeRole extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    readonly instanceProfile: aws.iam.InstanceProfile;
    /** The instance profile name, resolved only once every policy is attached. */
    readonly instanceProfileName: pulumi.Output<string>;

    constructor(name: string, args: NodeRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:iam:NodeRole", name, {}, opts);
        this.role = new aws.iam.Role(`${name}-role`, {
            description: `kaws ${args.kind} nodes of ${args.plan.clusterName}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        }, { parent: this });

        const ssm = new aws.iam.RolePolicyAttachment(`${name}-ssm`, {
            role: this.role.name,
            policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        }, { parent: this });

        const policy = pulumi.all([args.context.bucket.arn, args.context.keyArn, args.statements ?? []])
            .apply(([bucketArn, keyArn, statements]) => JSON.stringify({
                Version: "2012-10-17",
                Statement: [...assetStatements(bucketArn, keyArn, args.plan.region, args.readPrefixes, args.writePrefixes ?? []), ...statements],
            }));
        const inline = new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.id, policy }, { parent: this });

        this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name }, { parent: this });
        this.instanceProfileName = pulumi.all([this.instanceProfile.name, ssm.id, inline.id]).apply(([profile]) => profile);
        this.registerOutputs({ roleArn: this.role.arn, instanceProfileName: this.instanceProfileName });
    }
}

/** Bucket access limited to the given prefixes; KMS use only through S3 in this region. */
export function assetStatements(bucketArn: string, keyArn: string, region: string, readPrefixes: readonly string[], writePrefixes: readonly string[]): PolicyStatement[] {
    const viaS3 = { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } };
    const statements: PolicyStatement[] = [
        { Sid: "ReadOwnFiles", Effect: "Allow", Action: ["s3:GetObject"], Resource: readPrefixes.map((p) => `${bucketArn}/${p}*`) },
        {
            Sid: "ListOwnFiles",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: bucketArn,
            Condition: { StringLike: { "s3:prefix": [...new Set([...readPrefixes, ...writePrefixes])].map((p) => `${p}*`) } },
        },
        { Sid: "DecryptOwnFiles", Effect: "Allow", Action: ["kms:Decrypt"], Resource: keyArn, Condition: viaS3 },
    ];
    if (writePrefixes.length > 0) {
        statements.push(
            { Sid: "WriteOwnPrefix", Effect: "Allow", Action: ["s3:PutObject"], Resource: writePrefixes.map((p) => `${bucketArn}/${p}*`) },
            { Sid: "EncryptOwnWrites", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: keyArn, Condition: viaS3 },
        );
    }
    return statements;
}
