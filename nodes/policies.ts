import { PolicyStatement } from "./nodeRole";

/**
 * Why each statement that must name Resource "*" does: AWS offers no resource-level permission for these
 * actions (Describe*, ecr:GetAuthorizationToken). The README lists them.
 */
export const unscopableActions: Readonly<Record<string, string>> = {
    "ec2:Describe*": "EC2 Describe actions support no resource-level permissions",
    "autoscaling:Describe*": "Auto Scaling Describe actions support no resource-level permissions",
    "elasticloadbalancing:Describe*": "Elastic Load Balancing Describe actions support no resource-level permissions",
    "ec2:GetInstanceTypesFromInstanceRequirements": "account-level query, no resource type",
    "ecr:GetAuthorizationToken": "returns a registry token for the account; no resource type",
};

/** Pulling images from the account's ECR registries in this region (ecr-credential-provider + kubelet). */
export function ecrPullStatements(s: { readonly partition: string; readonly region: string; readonly accountId: string }): PolicyStatement[] {
    return [
        { Sid: "EcrToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
        {
            Sid: "EcrPull",
            Effect: "Allow",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            Resource: `arn:${s.partition}:ecr:${s.region}:${s.accountId}:repository/*`,
        },
    ];
}
