import { expect } from "chai";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { placeholderAccount } from "../../../automation/offline/placeholders";
import { Evaluation } from "../../../automation/offline/engine";
import { evaluate, named } from "../../harness";
import { policyProblems } from "../../iam";

// The dev deploy role's permission policy, as the Deployments program creates it, through the IAM simulator:
// a representative set of the calls the infra stack makes is allowed, and what it does not manage is denied.
const account = placeholderAccount;
const region = "eu-west-1";
const arn = (service: string, resource: string, inRegion = true) => `arn:aws:${service}:${inRegion ? region : ""}:${account}:${resource}`;

interface Call {
    readonly action: string;
    readonly resource: string;
    readonly context?: Record<string, string | string[]>;
}

const allowed: Call[] = [
    { action: "ec2:CreateVpc", resource: arn("ec2", "vpc/vpc-0123456789abcdef0") },
    { action: "ec2:CreateLaunchTemplate", resource: arn("ec2", "launch-template/lt-0123456789abcdef0") },
    { action: "autoscaling:CreateAutoScalingGroup", resource: arn("autoscaling", "autoScalingGroup:0a1b2c3d-0000-4000-8000-123456789abc:autoScalingGroupName/kaws-dev-controlplane") },
    { action: "elasticloadbalancing:CreateLoadBalancer", resource: arn("elasticloadbalancing", "loadbalancer/net/kaws-dev-api/0123456789abcdef") },
    { action: "route53:CreateHostedZone", resource: "*" },
    { action: "iam:CreateRole", resource: arn("iam", "role/kaws-dev-controlplane-role-abc1234", false) },
    { action: "iam:PutRolePolicy", resource: arn("iam", "role/kaws-dev-controlplane-role-abc1234", false) },
    { action: "iam:CreateInstanceProfile", resource: arn("iam", "instance-profile/kaws-dev-controlplane-profile-abc1234", false) },
    { action: "iam:AttachRolePolicy", resource: arn("iam", "role/kaws-dev-etcd-role-abc1234", false), context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" } },
    { action: "iam:PassRole", resource: arn("iam", "role/kaws-dev-etcd-role-abc1234", false), context: { "iam:PassedToService": "ec2.amazonaws.com" } },
    { action: "kms:CreateKey", resource: "*", context: { "aws:RequestTag/kaws:cluster": "kaws-dev", "aws:TagKeys": ["kaws:cluster"] } },
    { action: "kms:EnableKeyRotation", resource: arn("kms", "key/0a1b2c3d-0000-4000-8000-123456789abc"), context: { "aws:ResourceTag/kaws:cluster": "kaws-dev" } },
    { action: "kms:CreateAlias", resource: arn("kms", "alias/kaws-kaws-dev") },
    { action: "s3:CreateBucket", resource: "arn:aws:s3:::kaws-dev-assets-20261202000000000000000001" },
    { action: "s3:PutObject", resource: "arn:aws:s3:::kaws-dev-assets-20261202000000000000000001/pki/ca.crt" },
    { action: "sqs:CreateQueue", resource: arn("sqs", "kaws-dev-node-termination") },
    { action: "events:PutRule", resource: arn("events", "rule/kaws-dev-spot-interruption") },
    { action: "logs:CreateLogGroup", resource: arn("logs", "log-group:/kaws/kaws-dev/vpc-flow-logs") },
];

const denied: Call[] = [
    { action: "iam:CreateUser", resource: arn("iam", "user/someone", false) },
    { action: "iam:CreateAccessKey", resource: arn("iam", "user/someone", false) },
    { action: "s3:GetObject", resource: "arn:aws:s3:::another-bucket/secrets.txt" },
    { action: "s3:CreateBucket", resource: "arn:aws:s3:::kaws-prod-assets-20261202000000000000000001" },
    { action: "iam:CreateRole", resource: arn("iam", "role/kaws-prod-controlplane-role-abc1234", false) },
    { action: "iam:PutRolePolicy", resource: arn("iam", "role/kaws-deploy-dev", false) },
    { action: "iam:AttachRolePolicy", resource: arn("iam", "role/kaws-dev-etcd-role-abc1234", false), context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" } },
    { action: "iam:PassRole", resource: arn("iam", "role/kaws-dev-etcd-role-abc1234", false), context: { "iam:PassedToService": "lambda.amazonaws.com" } },
    { action: "kms:Decrypt", resource: arn("kms", "key/0a1b2c3d-0000-4000-8000-123456789abc"), context: { "aws:ResourceTag/kaws:cluster": "kaws-prod" } },
    { action: "ec2:CreateVpc", resource: "arn:aws:ec2:us-east-1:000000000000:vpc/vpc-0123456789abcdef0", context: { "aws:RequestedRegion": "us-east-1" } },
    { action: "sqs:SendMessage", resource: arn("sqs", "some-other-queue") },
];

// The cluster key sets no key policy, so it has AWS's default one, which lets the account's IAM policies decide.
const defaultKeyPolicy = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" }],
};

async function decide(policy: object, call: Call): Promise<string> {
    const response: any = await runSimulation({
        identityPolicies: [{ name: "kaws-deploy-dev-policy", policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: /:kms:[^:]+:[^:]+:key\//.test(call.resource) ? defaultKeyPolicy : undefined,
        request: {
            action: call.action,
            principal: `arn:aws:sts::${account}:assumed-role/kaws-deploy-dev/kaws-dev-1`,
            resource: { resource: call.resource, accountId: account },
            contextVariables: { "aws:SecureTransport": "true", "aws:PrincipalAccount": account, "aws:RequestedRegion": region, ...call.context },
        },
    } as any, {});
    return response.resultType === "error" ? `invalid request: ${JSON.stringify(response.errors)}` : response.overallResult;
}

describe("the dev deploy role in the IAM simulator", () => {
    let policy: object;

    before(async function () {
        this.timeout(30000);
        const ev: Evaluation = await evaluate("dev", { "kaws-deployments:organization": "acme", "kaws-deployments:repository": "acme/kaws" }, "automation/deployments");
        policy = JSON.parse(named(ev, "kaws-deploy-dev-policy").inputs.policy);
    });

    it("names only actions and condition keys AWS has", async () => {
        expect(await policyProblems("kaws-deploy-dev-policy", policy)).to.deep.equal([]);
    });

    it("allows the infra stack's representative create calls", async () => {
        const refused = [];
        for (const call of allowed) {
            const result = await decide(policy, call);
            if (result !== "Allowed") refused.push(`${call.action} on ${call.resource}: ${result}`);
        }
        expect(refused).to.deep.equal([]);
    });

    it("denies users, other buckets, the other environment, itself, other managed policies and other services", async () => {
        const letThrough = [];
        for (const call of denied) {
            const result = await decide(policy, call);
            if (result !== "ImplicitlyDenied" && result !== "ExplicitlyDenied") letThrough.push(`${call.action} on ${call.resource}: ${result}`);
        }
        expect(letThrough).to.deep.equal([]);
    });
});
