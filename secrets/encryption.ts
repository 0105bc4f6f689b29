import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { PkiSettings } from "../plan/config";
import { NodeFile } from "../nodes/nodeFiles";
import { EtcdMemberIdentity, Pki } from "./pki";
import { renderEncryptionConfig } from "./encryptionConfig";
import { renderKubeconfig } from "./kubeconfig";

/** Where etcd snapshots go in the assets bucket; the lifecycle rule here expires them. */
export const etcdBackupPrefix = "backups/etcd/";

/** Days an overwritten or deleted object version is kept (a rollback window for node files). */
export const noncurrentVersionDays = 30;

/** Name of the current secretbox key in the EncryptionConfiguration. */
export const secretboxKeyName = "secretbox-1";

export interface EncryptionArgs {
    /** Cluster name: names the KMS alias, the bucket and the CAs. */
    readonly clusterName: string;
    /** PKI settings (plain: generations are replacement triggers, the algorithm picks key arguments). */
    readonly pki: PkiSettings;
    /** DNS names of the API endpoint, SANs of the API server certificate. */
    readonly apiServerDnsNames: pulumi.Input<string>[];
    /** https URL of the API endpoint, the admin kubeconfig's server. */
    readonly apiEndpoint: pulumi.Input<string>;
    /** Service CIDR; its first address is a SAN of the API server certificate. */
    readonly serviceCidr: string;
    /** Cluster DNS domain, e.g. cluster.local. */
    readonly clusterDomain: string;
    /** The etcd member plan (plain: one server and one peer certificate per member). */
    readonly etcdMembers: readonly EtcdMemberIdentity[];
    /** Days etcd snapshots under backups/etcd/ are kept. */
    readonly etcdSnapshotRetentionDays: pulumi.Input<number>;
    /** ARN of the cluster's KMS key (ClusterKey): the bucket's default encryption and the only key writes may use. */
    readonly kmsKeyArn: pulumi.Input<string>;
}

/** A client identity (certificate and secret key) that a control-plane component's kubeconfig carries. */
export interface ClientCredential {
    readonly certPem: pulumi.Output<string>;
    readonly keyPem: pulumi.Output<string>;
}

const certMode = "0644";
const keyMode = "0600";

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
    /** kubeadm layout under /etc/kubernetes: PKI and the encryption config, for the control-plane nodes. */
    readonly controlPlaneFiles: NodeFile[];
    /** Client certificates of kube-controller-manager and kube-scheduler, for their kubeconfigs. */
    readonly clientCredentials: { readonly controllerManager: ClientCredential; readonly scheduler: ClientCredential };
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
        this.kmsKeyArn = pulumi.output(args.kmsKeyArn);

        this.assetsBucket = new aws.s3.Bucket(`${name}-assets`, {
            bucketPrefix: `${args.clusterName}-assets-`,
            // Destroying the cluster is an explicit, confirmed action; keeping its node files and snapshots would strand a versioned bucket.
            forceDestroy: true,
        }, { parent: this });
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
                    filter: { prefix: etcdBackupPrefix },
                    expiration: { days: args.etcdSnapshotRetentionDays },
                },
            ],
        }, { parent: this, dependsOn: [versioning] });
        new aws.s3.BucketPolicy(`${name}-assets`, {
            bucket,
            policy: pulumi.all([this.assetsBucket.arn, this.kmsKeyArn]).apply(([bucketArn, keyArn]) => JSON.stringify(bucketPolicy(bucketArn, keyArn))),
        }, { parent: this, dependsOn: [publicAccess] });

        this.pki = new Pki(name, {
            clusterName: args.clusterName,
            ...args.pki,
            apiServerDnsNames: args.apiServerDnsNames,
            serviceCidr: args.serviceCidr,
            clusterDomain: args.clusterDomain,
            etcdMembers: args.etcdMembers,
        }, { parent: this });
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
        this.clientCredentials = {
            controllerManager: { certPem: pki.controllerManager.certPem, keyPem: pki.controllerManager.keyPem },
            scheduler: { certPem: pki.scheduler.certPem, keyPem: pki.scheduler.keyPem },
        };
        this.adminKubeconfig = pulumi.secret(pulumi.all([args.apiEndpoint, pki.clusterCa.certPem, pki.admin.certPem, pki.admin.keyPem])
            .apply(([server, caCertPem, clientCertPem, clientKeyPem]) => renderKubeconfig({
                clusterName: args.clusterName, server, caCertPem, userName: `${args.clusterName}-admin`, clientCertPem, clientKeyPem,
            })));

        const kubePki = "/etc/kubernetes/pki";
        const cert = (path: string, content: pulumi.Input<string>): NodeFile => ({ path, mode: certMode, content });
        const key = (path: string, content: pulumi.Input<string>): NodeFile => ({ path, mode: keyMode, content: pulumi.secret(content) });
        this.controlPlaneFiles = [
            cert(`${kubePki}/ca.crt`, pki.clusterCa.certPem),
            key(`${kubePki}/ca.key`, pki.clusterCa.keyPem),
            cert(`${kubePki}/apiserver.crt`, pki.apiServer.certPem),
            key(`${kubePki}/apiserver.key`, pki.apiServer.keyPem),
            cert(`${kubePki}/apiserver-kubelet-client.crt`, pki.apiServerKubeletClient.certPem),
            key(`${kubePki}/apiserver-kubelet-client.key`, pki.apiServerKubeletClient.keyPem),
            cert(`${kubePki}/apiserver-etcd-client.crt`, pki.apiServerEtcdClient.certPem),
            key(`${kubePki}/apiserver-etcd-client.key`, pki.apiServerEtcdClient.keyPem),
            cert(`${kubePki}/front-proxy-ca.crt`, pki.frontProxyCa.certPem),
            cert(`${kubePki}/front-proxy-client.crt`, pki.frontProxyClient.certPem),
            key(`${kubePki}/front-proxy-client.key`, pki.frontProxyClient.keyPem),
            key(`${kubePki}/sa.key`, pki.serviceAccountKeyPem),
            cert(`${kubePki}/sa.pub`, pki.serviceAccountPublicKeyPem),
            cert(`${kubePki}/etcd/ca.crt`, pki.etcdCa.certPem),
            key("/etc/kubernetes/encryption-config.yaml", this.encryptionConfig),
        ];

        this.registerOutputs({
            kmsKeyArn: this.kmsKeyArn,
            assetsBucketName: this.assetsBucketName,
            clusterCaCertPem: this.clusterCaCertPem,
            certificateExpiry: this.certificateExpiry,
        });
    }

    /** What etcd member `index` receives under /etc/etcd/pki; keys are readable only by the etcd user. */
    etcdMemberFiles(index: number): NodeFile[] {
        const member = this.pki.etcdMembers[index];
        if (!member) throw new Error(`etcdMemberFiles: index ${index} is out of range; accepted: 0..${this.pki.etcdMembers.length - 1}`);
        const dir = "/etc/etcd/pki";
        const etcdKey = (path: string, content: pulumi.Output<string>): NodeFile => ({ path, mode: keyMode, owner: "etcd:etcd", content: pulumi.secret(content) });
        return [
            { path: `${dir}/ca.crt`, mode: certMode, content: this.pki.etcdCa.certPem },
            { path: `${dir}/server.crt`, mode: certMode, content: member.server.certPem },
            etcdKey(`${dir}/server.key`, member.server.keyPem),
            { path: `${dir}/peer.crt`, mode: certMode, content: member.peer.certPem },
            etcdKey(`${dir}/peer.key`, member.peer.keyPem),
        ];
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
