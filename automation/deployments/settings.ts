import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../stackConfig";
import { projectRoot } from "../../plan/projectRoot";
import { internalDomain } from "../../plan/etcdPlan";
import { impliedActions, providerActions } from "./providerActions";

/** The repository root: the infra project, its stack files and the policy pack. */
export const repoRoot = projectRoot;

/** Each environment and the only branch it deploys from: prod never from main (promote by merging main into release). */
export const environmentBranches = { dev: "main", prod: "release" } as const;
export type Environment = keyof typeof environmentBranches;
export const environments = Object.keys(environmentBranches) as Environment[];

/** The two stacks of an environment: where their Pulumi.yaml is and which pushes deploy them. */
export const projects = {
    infra: { project: "kaws", repoDir: ".", paths: ["**", "!addons/program/**", "!docs/**", "!**/*.md"] },
    addons: { project: "kaws-addons", repoDir: "addons/program", paths: ["addons/**"] },
} as const;
export type ProjectKind = keyof typeof projects;

export const oidcIssuer = "https://api.pulumi.com/oidc";
export const deployRoleName = (env: Environment) => `kaws-deploy-${env}`;
/** The ESC environments (project kaws): AWS credentials for operators, and the add-ons stack's config. */
export const escProject = "kaws";
export const awsEscName = (env: Environment) => `aws-${env}`;
export const addonsEscName = (env: Environment) => `addons-${env}`;
export const driftCron = "0 5 * * *";

export interface DeploymentsInput {
    readonly organization: string;
    readonly repository: string;
}

/** What the deployment wiring needs of an environment's infra stack, from its committed Pulumi.<env>.yaml. */
export interface EnvironmentFacts {
    readonly env: Environment;
    readonly clusterName: string;
    readonly region: string;
}

export class DeploymentsConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "DeploymentsConfigError";
    }
}

const accepted = {
    organization: { pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, form: "a Pulumi organization name (letters, digits, \"-\", \"_\", \".\"), e.g. acme" },
    repository: { pattern: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, form: "the GitHub repository as owner/name, e.g. acme/kaws" },
} as const;

/** Reads kaws-deployments:organization and :repository, or throws one line naming the key and the accepted form. */
export function readDeploymentsInput(get: (key: keyof typeof accepted) => string | undefined): DeploymentsInput {
    const read = (key: keyof typeof accepted): string => {
        const value = get(key);
        const { pattern, form } = accepted[key];
        if (value === undefined || value === "") throw new DeploymentsConfigError(`kaws-deployments:${key} is missing; accepted: ${form} (pulumi config set kaws-deployments:${key} <value>)`);
        if (!pattern.test(value)) throw new DeploymentsConfigError(`kaws-deployments:${key} ${JSON.stringify(value)} is not valid; accepted: ${form}`);
        return value;
    };
    return { organization: read("organization"), repository: read("repository") };
}

export function environmentFacts(env: Environment, root = repoRoot): EnvironmentFacts {
    const config = loadStackConfig(root, env);
    return { env, clusterName: config["kaws:clusterName"], region: config["aws:region"] };
}

const runFromRoot = "cd \"$(git rev-parse --show-toplevel)\" &&";

/**
 * Run before every operation, each in its own shell: install from the lock file and attach the add-ons
 * stack's ESC environment. The policy pack needs no command: its policy group enforces it on the
 * deployment's own preview and update.
 */
export function preRunCommands(organization: string, kind: ProjectKind, env: Environment): string[] {
    const { project, repoDir } = projects[kind];
    const stack = `${organization}/${project}/${env}`;
    return [
        `${runFromRoot} npm ci`,
        ...(kind === "addons" ? [`${runFromRoot} pulumi -C ${repoDir} config env add ${escProject}/${addonsEscName(env)} --stack ${stack} --yes`] : []),
    ];
}

/** The kaws policy pack as published to Pulumi Cloud: the policy/ folder, at its package.json version. */
export function policyPackRelease(root = repoRoot): { name: string; sourcePath: string; versionTag: string } {
    const sourcePath = path.join(root, "policy");
    const { version } = JSON.parse(fs.readFileSync(path.join(sourcePath, "package.json"), "utf8"));
    return { name: "kaws", sourcePath, versionTag: version };
}

/** The file that records which content a pack version was published with (policy/release.json). */
export const policyReleaseFile = (root = repoRoot) => path.join(root, "policy", "release.json");

/**
 * SHA-256 of what a published pack version consists of: every file of policy/ but node_modules, the release
 * record, and package.json's own version (so the digest says whether the content changed, not the number).
 */
export function policyPackDigest(root = repoRoot): string {
    const dir = path.join(root, "policy");
    const hash = crypto.createHash("sha256");
    for (const file of fs.readdirSync(dir).filter((f) => f !== "node_modules" && f !== "release.json").sort()) {
        let content = fs.readFileSync(path.join(dir, file), "utf8");
        if (file === "package.json" || file === "package-lock.json") {
            const manifest = JSON.parse(content);
            delete manifest.version;
            if (manifest.packages?.[""]) delete manifest.packages[""].version;
            content = JSON.stringify(manifest);
        }
        hash.update(`${file}\0${content}\0`);
    }
    return hash.digest("hex");
}

/** Every stack the policy group holds: both projects of every environment. */
export const policyGroupStacks = environments.flatMap((env) => Object.values(projects).map((p) => ({ name: env, routingProject: p.project })));

/**
 * Who may assume an environment's deploy role: that environment's stacks of kaws and kaws-addons in Pulumi
 * Deployments (sub claim pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write,
 * aud the organization: https://www.pulumi.com/docs/pulumi-cloud/deployments/oidc/), and its ESC environment
 * kaws/aws-<env> (sub pulumi:environments:org:<org>:env:<project>/<environment>, aud aws:<org>:
 * https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/).
 */
export function deployTrustPolicy(providerArn: string, organization: string, env: Environment): object {
    const principal = { Federated: providerArn };
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "PulumiDeployments",
                Effect: "Allow",
                Principal: principal,
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: { "api.pulumi.com/oidc:aud": organization },
                    StringLike: { "api.pulumi.com/oidc:sub": Object.values(projects).map((p) => `pulumi:deploy:org:${organization}:project:${p.project}:stack:${env}:operation:*:scope:write`) },
                },
            },
            {
                Sid: "PulumiEsc",
                Effect: "Allow",
                Principal: principal,
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        "api.pulumi.com/oidc:aud": `aws:${organization}`,
                        "api.pulumi.com/oidc:sub": `pulumi:environments:org:${organization}:env:${escProject}/${awsEscName(env)}`,
                    },
                },
            },
        ],
    };
}

const iamRoleActions = [
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
    "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
];

const kmsKeyActions = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:UpdateKeyDescription", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
];

const reads = /^[a-z0-9]+:(Describe|Get|List)/;

/** Actions that change or remove something that already exists: allowed only on the cluster's own resources. */
export const changesExisting = /^[a-z0-9]+:(Delete|Terminate|Revoke|Detach|Disassociate|Release|Unassign|Modify|Replace|Cancel|Disable|Stop|Suspend|Update|Set|Remove|Unmonitor|Monitor|Start|Resume|Enable|Attach|Associate|Assign|Authorize|Put|CreateRoute$|CreateLaunchTemplateVersion$|CreateOrUpdateTags$)/;

/**
 * The provider's actions in one service (providerActions plus what AWS implies): every one that changes
 * something by name, and its reads as Describe* / Get* / List* (read-only; listing each would not fit IAM's
 * 10,240-character limit on a role's inline policies).
 */
export function serviceActions(service: string): string[] {
    const all = [...Object.values(providerActions).flatMap((p) => p.actions), ...Object.values(impliedActions).flat()]
        .filter((action) => action.startsWith(`${service}:`));
    const readPrefixes = [...new Set(all.filter((a) => reads.test(a)).map((a) => `${service}:${reads.exec(a)![1]}*`))];
    return [...new Set([...readPrefixes, ...all.filter((a) => !reads.test(a))])].sort();
}

const exactChanges = new Set(["CreateRoute", "CreateLaunchTemplateVersion", "CreateOrUpdateTags"]);

/** The verbs of a service's changing actions, as Deny patterns (a Deny may be wider than what is allowed). */
function changingVerbs(service: string): string[] {
    const verbs = serviceActions(service).filter((a) => changesExisting.test(a)).map((a) => {
        const verb = changesExisting.exec(a)![1];
        return exactChanges.has(verb) ? a : `${service}:${verb}*`;
    });
    return [...new Set(verbs)].sort();
}

/** EC2 resource types the infra stack creates, whose existing instances the deploy role may change when tagged for its cluster. */
const ec2ResourceTypes = ["vpc", "subnet", "route-table", "internet-gateway", "natgateway", "elastic-ip", "vpc-endpoint", "vpc-flow-log",
    "security-group", "network-interface", "launch-template", "volume", "instance"];

/**
 * What an environment's deploy role may do: the actions pulumi-aws calls for the resource types the infra
 * stack manages (providerActions.ts; only their reads as prefixes), in its region; changing or deleting an existing EC2,
 * Auto Scaling or ELB resource only if it carries the cluster's kaws:cluster tag (an explicit deny, so no other
 * grant can widen it), and Route 53 changes only to names in the cluster's private domain. Its own IAM roles
 * and instance profiles (<cluster>-*, passed only to EC2 and VPC flow logs, with no managed policy but the SSM
 * core one), key (tagged kaws:cluster), bucket, queue, rules and log groups, by name.
 */
export function deployPolicy(facts: EnvironmentFacts, accountId: string): object {
    const { clusterName: c, region } = facts;
    const arn = (service: string, resource: string, inRegion = true) => `arn:aws:${service}:${inRegion ? region : ""}:${accountId}:${resource}`;
    const inRegion = { StringEquals: { "aws:RequestedRegion": region } };
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Network", Effect: "Allow", Action: ["ec2", "autoscaling", "elasticloadbalancing"].flatMap(serviceActions), Resource: "*", Condition: inRegion },
            {
                Sid: "OnlyClusterNetwork", Effect: "Deny",
                Action: ["ec2", "autoscaling", "elasticloadbalancing"].flatMap(changingVerbs),
                Resource: [
                    ...ec2ResourceTypes.map((type) => arn("ec2", `${type}/*`)),
                    arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*"),
                    ...["loadbalancer/*", "targetgroup/*", "listener/*"].map((resource) => arn("elasticloadbalancing", resource)),
                ],
                Condition: { StringNotEquals: { "aws:ResourceTag/kaws:cluster": c } },
            },
            { Sid: "Dns", Effect: "Allow", Action: serviceActions("route53"), Resource: "*" },
            {
                Sid: "OnlyClusterNames", Effect: "Deny", Action: "route53:ChangeResourceRecordSets", Resource: "*",
                Condition: { "ForAnyValue:StringNotLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [internalDomain(c), `*.${internalDomain(c)}`] } },
            },
            { Sid: "ClusterRoles", Effect: "Allow", Action: iamRoleActions, Resource: [arn("iam", `role/${c}-*`, false), arn("iam", `instance-profile/${c}-*`, false)] },
            {
                Sid: "ClusterRolePolicies", Effect: "Allow", Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], Resource: arn("iam", `role/${c}-*`, false),
                Condition: { ArnEquals: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" } },
            },
            {
                Sid: "PassClusterRoles", Effect: "Allow", Action: "iam:PassRole", Resource: arn("iam", `role/${c}-*`, false),
                Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"] } },
            },
            {
                Sid: "ServiceLinkedRoles", Effect: "Allow", Action: "iam:CreateServiceLinkedRole", Resource: arn("iam", "role/aws-service-role/*", false),
                Condition: { StringEquals: { "iam:AWSServiceName": ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"] } },
            },
            { Sid: "CreateClusterKey", Effect: "Allow", Action: "kms:CreateKey", Resource: "*", Condition: { StringEquals: { "aws:RequestTag/kaws:cluster": c, ...inRegion.StringEquals } } },
            { Sid: "ListKeys", Effect: "Allow", Action: ["kms:ListAliases", "kms:ListKeys"], Resource: "*" },
            { Sid: "ClusterKey", Effect: "Allow", Action: kmsKeyActions, Resource: arn("kms", "key/*"), Condition: { StringEquals: { "aws:ResourceTag/kaws:cluster": c } } },
            { Sid: "ClusterKeyAlias", Effect: "Allow", Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], Resource: arn("kms", `alias/kaws-${c}`) },
            { Sid: "ClusterBucket", Effect: "Allow", Action: "s3:*", Resource: [`arn:aws:s3:::${c}-assets-*`, `arn:aws:s3:::${c}-assets-*/*`] },
            { Sid: "ClusterQueue", Effect: "Allow", Action: "sqs:*", Resource: arn("sqs", `${c}-*`) },
            { Sid: "ClusterRules", Effect: "Allow", Action: "events:*", Resource: arn("events", `rule/${c}-*`) },
            { Sid: "ClusterLogs", Effect: "Allow", Action: "logs:*", Resource: [arn("logs", `log-group:/kaws/${c}/*`), arn("logs", `log-group:/kaws/${c}/*:*`)] },
            { Sid: "DescribeLogs", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ],
    };
}

/** ESC: short-lived AWS credentials from the deploy role, as environment variables (`pulumi env run kaws/aws-<env> -- kaws up <env>`). */
export function awsEnvironment(env: Environment, roleArn: string): object {
    return {
        values: {
            aws: { login: { "fn::open::aws-login": { oidc: { roleArn, sessionName: `kaws-${env}`, duration: "1h" } } } },
            environmentVariables: {
                AWS_ACCESS_KEY_ID: "${aws.login.accessKeyId}",
                AWS_SECRET_ACCESS_KEY: "${aws.login.secretAccessKey}",
                AWS_SESSION_TOKEN: "${aws.login.sessionToken}",
            },
        },
    };
}

/**
 * ESC: the add-ons stack's config from the infra stack's outputs, under the keys automation/driver.ts
 * addonsConfigFrom writes; structured outputs as JSON strings, secret outputs stay secret.
 */
export function addonsEnvironment(env: Environment): object {
    return {
        values: {
            infra: { "fn::open::pulumi-stacks": { stacks: { [env]: { stack: `${projects.infra.project}/${env}` } } } },
            pulumiConfig: {
                "kaws-addons:addonSettings": { "fn::toJSON": `\${infra.${env}.addonSettings}` },
                "kaws-addons:addonSecrets": { "fn::toJSON": `\${infra.${env}.addonSecrets}` },
                "kaws-addons:kubeconfig": `\${infra.${env}.kubeconfig}`,
            },
        },
    };
}
