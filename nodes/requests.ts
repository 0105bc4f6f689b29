import { AccountScope, AwsRequest, ResourceRef, ecrPullRequests, s3GetEncrypted, s3List, ssmAgentRequests } from "./awsRequests";
import { rolePrefix } from "./fileDelivery";

/** What every node's boot and agents ask of AWS: its role's files, Session Manager, and (Kubernetes nodes) ECR pulls. */
export interface NodeRequestScope extends AccountScope {
    /** Node role whose files it fetches: controlplane, worker-<pool> or etcd-<i>. */
    readonly role: string;
    readonly instance: ResourceRef;
    readonly bucketArn: string;
    readonly keyArn: string;
    /** Bucket keys of the role's files (manifest included). */
    readonly fileKeys: readonly string[];
}

/** `kaws-fetch-files` (render/nodeFiles.ts): `aws s3 cp --recursive s3://<bucket>/nodes/<role>/`. */
export function fetchFilesRequests(s: NodeRequestScope): AwsRequest[] {
    const source = `kaws-fetch-files (${s.role}): aws s3 cp --recursive`;
    return [
        s3List(s.bucketArn, `${rolePrefix(s.role)}/`, source),
        ...s.fileKeys.flatMap((key) => s3GetEncrypted(s, s.bucketArn, key, s.keyArn, source)),
    ];
}

/** Every node: its files and the SSM agent. */
export function nodeRequests(s: NodeRequestScope): AwsRequest[] {
    return [...fetchFilesRequests(s), ...ssmAgentRequests(s.instance)];
}

/** Kubernetes nodes also pull private images through ecr-credential-provider. */
export function kubernetesNodeRequests(s: NodeRequestScope): AwsRequest[] {
    return [...nodeRequests(s), ...ecrPullRequests(s, "team/app")];
}
