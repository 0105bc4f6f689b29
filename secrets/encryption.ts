import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { ClusterPlan, bucketPrefixes, holdsState } from "../plan/cluster";
import { Pki } from "./pki";
import { renderEncryptionConfig } from "./encryptionConfig";
import { renderKubeconfig } from "../nodes/kubeconfig";

/** Days an overwritten or deleted object version is kept (a rollback window for node files). */
export const noncurrentVersionDays = 30;

/** Name of the current secretbox key in the EncryptionConfiguration. */
export const secretboxKeyName = "secretbox-1";

export interface EncryptionArgs {
    /** Cluster name, PKI settings (plain: generations are replacement triggers), snapshot retention. */
    readonly plan: ClusterPlan;
    /** DNS names of the API endpoint, SANs of the API server certificate. */
    readonly apiServerDnsNames: pulumi.Input<string>[];
    /** https URL of the API endpoint, the admin kubeconfig's server. */
    readonly apiEndpoint: pulumi.Input<string>;
    /** ARN of the cluster's KMS key (ClusterKey): the bucket's default encryption and the only key writes may use. */
    readonly kmsKeyArn: pulumi.Input<string>;
}

/**
 * Everything secret about a cluster and where it is kept: the assets bucket that delivers node files
 * (SSE-KMS with the cluster key, private, TLS only, versioned), the PKI, the secrets-at-rest configuration,
 * the weave password, the kubelet bootstrap token and the break-glass admin kubeconfig. Node roles get
 * decrypt through their own IAM policies (kms:ViaService s3), which the key policy delegates to IAM.
 */
export class Encryption extends pulumi.ComponentResource {
    readonly kmsKeyArn: pulumi.Output<string>;
    readonly assetsBucket: aws.s3.Bucket;
    readonly assetsBucketName: pulumi.Output<string>;
    readonly assetsBucketArn: pulumi.Output<string>;
    readonly pki: Pki;
    readonly clusterCaCertPem: pulumi.Output<string>;
    readonly etcdCaCertPem: pulumi.Output<string>;
    /** Break-glass cluster-admin kubeconfig (O=system:masters) for the API endpoint. Secret. */
    readonly adminKubeconfig: pulumi.Output<string>;
    /** The kube-apiserver --encryption-provider-config. Secret. */
    readonly encryptionConfig: pulumi.Output<string>;
    readonly weavePassword: pulumi.Output<string>;
    /** Bootstrap token id ([a-z0-9]{6}); public by design (it names the Secret). */
    readonly bootstrapTokenId: pulumi.Output<string>;
    /** Bootstrap token secret ([a-z0-9]{16}). Secret. */
    readonly bootstrapTokenSecret: pulumi.Output<string>;
    readonly certificateExpiry: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: EncryptionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:encryption:Encryption", name, {}, opts);
        const clusterName = args.plan.clusterName;
        this.kmsKeyArn = pulumi.output(args.kmsKeyArn);

        this.assetsBucket = new aws.s3.Bucket(`${name}-assets`, {
            bucketPrefix: `${clusterName}-assets-`,
            // Destroying the cluster is an explicit, confirmed action; keeping its node files and snapshots would strand a versioned bucket.
            forceDestroy: true,
        }, { parent: this, ...holdsState });
        this.assetsBucketName = this.assetsBucket.bucket;
        this.assetsBucketArn = this.assetsBucket.arn;
        const bucket = this.assetsBucket.id;

        const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-assets`, {
            bucket,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, { parent: this });
        new aws.s3.BucketOwnershipControls(`${name}-assets`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-assets`, {
            bucket,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.kmsKeyArn }, bucketKeyEnabled: true }],
        }, { parent: this });
        const versioning = new aws.s3.BucketVersioning(`${name}-assets`, { bucket, versioningConfiguration: { status: "Enabled" } }, { parent: this });
        new aws.s3.BucketLifecycleConfiguration(`${name}-assets`, {
            bucket,
            rules: [
                {
                    id: "expire-noncurrent-versions",
                    status: "Enabled",
                    filter: { prefix: "" },
                    noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
                    expiration: { expiredObjectDeleteMarker: true },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                },
                {
                    id: "expire-etcd-snapshots",
                    status: "Enabled",
                    filter: { prefix: bucketPrefixes.etcdBackups },
                    expiration: { days: args.plan.config.etcd.snapshotRetentionDays },
                    // Without this, the versioned bucket keeps every expired snapshot 30 more days.
                    noncurrentVersionExpiration: { noncurrentDays: 1 },
                },
            ],
        }, { parent: this, dependsOn: [versioning] });
        new aws.s3.BucketPolicy(`${name}-assets`, {
            bucket,
            policy: pulumi.all([this.assetsBucket.arn, this.kmsKeyArn]).apply(([bucketArn, keyArn]) => JSON.stringify(bucketPolicy(bucketArn, keyArn))),
        }, { parent: this, dependsOn: [publicAccess] });

        this.pki = new Pki(name, { plan: args.plan, apiServerDnsNames: args.apiServerDnsNames }, { parent: this });
        this.clusterCaCertPem = this.pki.clusterCa.certPem;
        this.etcdCaCertPem = this.pki.etcdCa.certPem;
        this.certificateExpiry = this.pki.certificateExpiry;

        const secretboxKey = new random.RandomBytes(`${name}-secretbox-key`, { length: 32 }, { parent: this });
        this.encryptionConfig = pulumi.secret(secretboxKey.base64.apply((key) => renderEncryptionConfig({ keyName: secretboxKeyName, secretboxKeyBase64: key })));

        const weave = new random.RandomPassword(`${name}-weave-password`, { length: 48, special: false }, { parent: this });
        this.weavePassword = pulumi.secret(weave.result);
        const lowerAlphanumeric = { special: false, upper: false, lower: true, numeric: true };
        this.bootstrapTokenId = new random.RandomString(`${name}-bootstrap-token-id`, { length: 6, ...lowerAlphanumeric }, { parent: this }).result;
        this.bootstrapTokenSecret = pulumi.secret(new random.RandomString(`${name}-bootstrap-token-secret`, { length: 16, ...lowerAlphanumeric }, { parent: this }).result);

        const pki = this.pki;
        this.adminKubeconfig = pulumi.secret(pulumi.all([args.apiEndpoint, pki.clusterCa.certPem, pki.admin.certPem, pki.admin.keyPem])
            .apply(([server, caCertPem, clientCertPem, clientKeyPem]) => renderKubeconfig({
                clusterName, server, caCertPem, userName: `${clusterName}-admin`, clientCertPem, clientKeyPem,
            })));

        this.registerOutputs({
            kmsKeyArn: this.kmsKeyArn,
            assetsBucketName: this.assetsBucketName,
            clusterCaCertPem: this.clusterCaCertPem,
            certificateExpiry: this.certificateExpiry,
        });
    }
}

/**
 * TLS only, and objects may only be written with the cluster's key. A write that names no encryption gets
 * the bucket default (the cluster key): the parts of a multipart upload carry no SSE headers (only
 * CreateMultipartUpload does), and a negated condition is true for an absent key, so each deny also needs
 * the header present (Null false): otherwise every upload over the AWS CLI's 8 MiB multipart threshold,
 * such as an etcd snapshot, would be refused.
 */
export function bucketPolicy(bucketArn: string, keyArn: string): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                Sid: "DenyOtherEncryption",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:PutObject",
                Resource: `${bucketArn}/*`,
                Condition: { Null: { "s3:x-amz-server-side-encryption": "false" }, StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            },
            {
                Sid: "DenyOtherEncryptionKeys",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:PutObject",
                Resource: `${bucketArn}/*`,
                Condition: { Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" }, StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } },
            },
        ],
    };
}
