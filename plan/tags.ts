import { Environment } from "./config";

/** Tags every AWS resource of a cluster carries (applied as the AWS provider's default tags). */
export function clusterTags(clusterName: string, environment: Environment): Record<string, string> {
    return {
        [`kubernetes.io/cluster/${clusterName}`]: "owned",
        "kaws:cluster": clusterName,
        "kaws:environment": environment,
        "managed-by": "kaws",
    };
}

/** Tag every worker ASG carries for the cluster-autoscaler; the autoscaler may only resize groups with it. */
export const autoscalerOwnerTag = (clusterName: string) => `k8s.io/cluster-autoscaler/${clusterName}`;
