import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { manifestName, NodeFileSpec, renderManifest, rolePrefix } from "./fileDelivery";

export interface NodeFile extends NodeFileSpec {
    /** File content; pass key material as a pulumi.secret. */
    readonly content: pulumi.Input<string>;
}

export interface NodeFilesArgs {
    /** Node role: "controlplane", "etcd-<i>" or "worker-<pool>"; names the bucket prefix. */
    readonly role: string;
    /** Assets bucket name. */
    readonly bucket: pulumi.Input<string>;
    /** KMS key ARN every object is encrypted with. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Everything this role's nodes receive besides user data (plain list: one object per file). */
    readonly files: readonly NodeFile[];
}

/** The files of one node role, stored SSE-KMS under nodes/<role>/ with the manifest the fetch script reads. */
export class NodeFiles extends pulumi.ComponentResource {
    /** Bucket prefix, without trailing slash, that this role's instance profile may read. */
    readonly prefix: string;
    readonly objects: aws.s3.BucketObjectv2[];
    /**
     * SHA-256 over every path, mode and content. Launch templates carry it, so a changed file (a renewed
     * certificate, a new flag) rolls the role's nodes. A digest reveals nothing of the keys it covers.
     */
    readonly digest: pulumi.Output<string>;

    constructor(name: string, args: NodeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:assets:NodeFiles", name, {}, opts);
        this.prefix = rolePrefix(args.role);
        const store = (key: string, content: pulumi.Input<string>) => new aws.s3.BucketObjectv2(`${name}${key.slice(this.prefix.length)}`, {
            bucket: args.bucket,
            key,
            content,
            serverSideEncryption: "aws:kms",
            kmsKeyId: args.kmsKeyArn,
            contentType: "application/octet-stream",
        }, { parent: this });
        this.objects = [
            ...args.files.map((file) => store(`${this.prefix}${file.path}`, file.content)),
            store(`${this.prefix}/${manifestName}`, renderManifest(args.files)),
        ];
        const manifest = renderManifest(args.files);
        this.digest = pulumi.unsecret(pulumi.all(args.files.map((file) => file.content)).apply((contents) => {
            const hash = createHash("sha256").update(manifest);
            args.files.forEach((file, i) => hash.update(`\0${file.path}\0${contents[i]}`));
            return hash.digest("hex");
        }));
        this.registerOutputs({ prefix: this.prefix, digest: this.digest });
    }
}
