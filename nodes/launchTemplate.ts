import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { withFilesDigest } from "./cloudInit";

export interface NodeLaunchTemplateArgs {
    /** Node role written to the kaws:role tag: controlplane, etcd-<i> or worker-<pool>. */
    readonly role: string;
    /** Tags for the instances and volumes launched (default provider tags do not reach them). */
    readonly tags: Readonly<Record<string, string>>;
    readonly imageId: pulumi.Input<string>;
    /** Single instance type; leave unset when the ASG's mixed instances policy chooses. */
    readonly instanceType?: pulumi.Input<string>;
    readonly instanceProfileName: pulumi.Input<string>;
    readonly securityGroupIds: pulumi.Input<string>[];
    /** Customer KMS key that encrypts the root volume. */
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly rootVolumeSizeGiB: number;
    /** Plain user data (cloud-config); it is base64-encoded here. Never key material. */
    readonly userData: pulumi.Input<string>;
    /** Digest of the role's node files (NodeFiles.digest): a change makes a new template version. */
    readonly filesDigest: pulumi.Input<string>;
    /** 1 keeps instance metadata away from pods; 2 lets pods that need IMDS reach it. */
    readonly imdsHopLimit: 1 | 2;
}

/** The launch template every kaws node uses: IMDSv2 only, encrypted gp3 root with our key, no public IP. */
export function nodeLaunchTemplate(name: string, args: NodeLaunchTemplateArgs, parent: pulumi.Resource): aws.ec2.LaunchTemplate {
    const tags = { ...args.tags, Name: `${args.tags["kaws:cluster"] ?? "kaws"}-${args.role}`, "kaws:role": args.role };
    return new aws.ec2.LaunchTemplate(name, {
        imageId: args.imageId,
        instanceType: args.instanceType,
        iamInstanceProfile: { name: args.instanceProfileName },
        vpcSecurityGroupIds: args.securityGroupIds,
        userData: pulumi.all([args.userData, args.filesDigest]).apply(([text, digest]) => Buffer.from(withFilesDigest(text, digest), "utf8").toString("base64")),
        ebsOptimized: "true",
        metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: args.imdsHopLimit,
            instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [{
            deviceName: "/dev/xvda",
            ebs: {
                volumeType: "gp3",
                volumeSize: args.rootVolumeSizeGiB,
                encrypted: "true",
                kmsKeyId: args.kmsKeyArn,
                deleteOnTermination: "true",
            },
        }],
        monitoring: { enabled: true },
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags })),
        tags: { "kaws:role": args.role },
        updateDefaultVersion: true,
    }, { parent });
}
