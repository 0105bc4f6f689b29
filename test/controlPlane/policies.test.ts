import { expect } from "chai";
import { PolicyStatement } from "../../nodes/nodeRole";
import { controlPlaneStatements, PolicyScope } from "../../controlPlane/policies";
import { unscopableActions } from "../../nodes/policies";
import { workerStatements } from "../../workers/workerPool";

const scope: PolicyScope = {
    clusterName: "kaws-prod",
    partition: "aws",
    region: "eu-west-1",
    accountId: "123456789012",
    vpcId: "vpc-0abc",
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234",
    terminationQueueArn: "arn:aws:sqs:eu-west-1:123456789012:kaws-prod-node-termination",
    privateZoneId: "Z0123456789ABCDEFGHIJ",
    nodeApiDnsName: "control-plane.kaws-prod.internal",
};

const actions = (statements: PolicyStatement[]) => statements.flatMap((s) => s.Action);
const resources = (s: PolicyStatement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const unscopable = Object.keys(unscopableActions).map((pattern) => new RegExp(`^${pattern.replace("*", ".*")}$`));
const readOnly = /^[a-z0-9-]+:(Describe|Get|List)/;

/** Problems with a policy's scoping, one line each; empty when every rule holds. */
function scopingProblems(statements: PolicyStatement[]): string[] {
    const problems: string[] = [];
    for (const s of statements) {
        for (const action of s.Action) {
            if (action === "*" || action.endsWith(":*")) problems.push(`${s.Sid}: wildcard action ${action}`);
            if (action === "iam:PassRole") problems.push(`${s.Sid}: iam:PassRole`);
        }
        for (const resource of resources(s)) {
            if (resource === "*") {
                const loose = s.Action.filter((a) => !unscopable.some((re) => re.test(a)));
                if (loose.length > 0) problems.push(`${s.Sid}: Resource "*" for scopable actions ${loose.join(", ")}`);
            } else if (!resource.startsWith(`arn:${scope.partition}:`)
                || !(resource.includes(`:${scope.accountId}:`) || resource === scope.kmsKeyArn || resource === `arn:${scope.partition}:route53:::hostedzone/${scope.privateZoneId}`)) {
                problems.push(`${s.Sid}: ${resource} is not an ARN of this account`);
            }
        }
        const mutating = s.Action.filter((a) => !readOnly.test(a));
        if (mutating.length > 0 && resources(s).includes("*")) problems.push(`${s.Sid}: mutating ${mutating.join(", ")} on "*"`);
    }
    return problems;
}

describe("controlPlane/policies", () => {
    it("the control plane (with autoscaler) has no wildcard action, and Resource \"*\" only where AWS offers no resource-level permission", () => {
        expect(scopingProblems(controlPlaneStatements(scope, true))).to.deep.equal([]);
    });

    it("the scoping check can fail: a broad statement is reported", () => {
        const broad: PolicyStatement[] = [{ Sid: "Broad", Effect: "Allow", Action: ["ec2:*", "ec2:AttachVolume"], Resource: "*" }];
        expect(scopingProblems(broad)).to.have.length(3);
    });

    it("every mutation of existing EC2 and load-balancer resources needs the cluster tag (listeners excepted: the CCM does not tag them)", () => {
        const tagKey = `aws:ResourceTag/kubernetes.io/cluster/${scope.clusterName}`;
        for (const s of controlPlaneStatements(scope, false)) {
            const changesExisting = s.Action.some((a) => /^(ec2|elasticloadbalancing):(Delete|Modify|Authorize|Revoke|Register|Deregister|Set|Apply|Attach|Detach|Configure)/.test(a));
            if (!changesExisting || s.Sid === "ChangeServiceListeners") continue;
            const condition = JSON.stringify(s.Condition ?? {});
            expect(condition.includes(tagKey) || condition.includes("aws:ResourceTag/ebs.csi.aws.com/cluster"), `${s.Sid}: ${condition}`).to.equal(true);
        }
    });

    it("the autoscaler may only resize ASGs tagged k8s.io/cluster-autoscaler/<cluster>=owned, and only when enabled", () => {
        const resize = controlPlaneStatements(scope, true).filter((s) => s.Action.includes("autoscaling:SetDesiredCapacity"));
        expect(resize).to.have.length(1);
        expect(resize[0].Condition).to.deep.equal({ StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/kaws-prod": "owned" } });
        expect(actions(controlPlaneStatements(scope, false))).to.not.include("autoscaling:SetDesiredCapacity");
    });

    it("creating load balancers and security groups requires this cluster's tag or this VPC", () => {
        const statements = controlPlaneStatements(scope, false);
        const createLb = statements.find((s) => s.Action.includes("elasticloadbalancing:CreateLoadBalancer"))!;
        expect(createLb.Condition).to.deep.equal({ Null: { "aws:RequestTag/kubernetes.io/cluster/kaws-prod": "false" } });
        const createSg = statements.find((s) => s.Action.includes("ec2:CreateSecurityGroup"))!;
        expect(createSg.Resource).to.include("arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc");
    });

    it("KMS use is limited to the cluster key, and grants only for AWS resources", () => {
        const kms = controlPlaneStatements(scope, false).filter((s) => s.Action.some((a) => a.startsWith("kms:")));
        for (const s of kms) expect(s.Resource, s.Sid).to.equal(scope.kmsKeyArn);
        expect(kms.find((s) => s.Action.includes("kms:CreateGrant"))!.Condition).to.deep.equal({ Bool: { "kms:GrantIsForAWSResource": "true" } });
    });

    it("workers can only pull images from the account's registries in the region", () => {
        const statements = workerStatements(scope);
        expect(actions(statements).sort()).to.deep.equal(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer"]);
        expect(scopingProblems(statements)).to.deep.equal([]);
    });
});
