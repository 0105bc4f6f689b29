import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Architecture } from "../plan/instanceTypes";
import { al2023 } from "../plan/versions";

/** Name of the pinned Amazon Linux 2023 AMI for an architecture (standard image, pinned kernel line). */
export function al2023AmiName(arch: Architecture): string {
    return `al2023-ami-${al2023.release}-kernel-${al2023.kernel}-${arch}`;
}

/**
 * The AMI nodes boot: the configured pre-baked image, or the pinned Amazon Linux 2023 release. Pinning
 * the release (not the "latest" SSM parameter) means nodes only roll when versions.ts changes.
 */
export function nodeImageId(imageId: string | undefined, arch: Architecture, parent: pulumi.Resource): pulumi.Output<string> {
    if (imageId) return pulumi.output(imageId);
    return aws.ec2.getAmiOutput({
        owners: ["amazon"],
        filters: [
            { name: "name", values: [al2023AmiName(arch)] },
            { name: "architecture", values: [arch] },
        ],
    }, { parent }).id;
}
