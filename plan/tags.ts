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
