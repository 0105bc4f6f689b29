import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse as parseCsv } from "csv-parse/sync";
import { Evaluation, RecordedResource } from "../automation/offline/engine";
import { invokeResult, placeholderArn } from "../automation/offline/placeholders";
import { loadStackConfig } from "../automation/stackConfig";
import { bootstrapTokenOf, evaluate, idOf, ofType, root } from "./harness";

// The AWS security-check reference table (checkov / trivy / custom rows), judged against the resources the
// real program registers for each committed environment. Every row is met (asserted here), deliberately
// not met (README "AWS checks" carries the reason), or not applicable (and what makes it so is asserted).

interface AwsCheckRow { id: string; tool: string; resource_type: string; pulumi_type: string; attribute: string; pulumi_property: string; expected: string; applicability_notes: string }
const rows: AwsCheckRow[] = parseCsv(fs.readFileSync(path.join(__dirname, "fixtures", "aws-checks.csv"), "utf8"), { columns: true, skip_empty_lines: true });

type Env = "dev" | "prod";
const envs: Env[] = ["dev", "prod"];

interface Stack { ev: Evaluation; env: Env; clusterName: string; region: string; keyArn: string }
/** A check returns its problems; none means the stack satisfies it. */
type Check = (stack: Stack) => string[];

type Classification =
    | { verdict: "met"; check: Check }
    | { verdict: "not met"; reason: string; confirm?: Check }
    | { verdict: "not applicable"; reason: string; confirm: Check };
type Entry = Classification | { perEnv: Record<Env, Classification> };

const met = (...checks: Check[]): Classification => ({ verdict: "met", check: all(...checks) });
const notMet = (reason: string, ...confirm: Check[]): Classification => ({ verdict: "not met", reason, confirm: confirm.length ? all(...confirm) : undefined });
const notApplicable = (reason: string, ...confirm: Check[]): Classification => ({ verdict: "not applicable", reason, confirm: all(...confirm) });
const all = (...checks: Check[]): Check => (stack) => checks.flatMap((check) => check(stack));

const T = {
    instance: "aws:ec2/instance:Instance",
    launchConfiguration: "aws:ec2/launchConfiguration:LaunchConfiguration",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    volume: "aws:ebs/volume:Volume",
    volumeAttachment: "aws:ec2/volumeAttachment:VolumeAttachment",
    encryptionByDefault: "aws:ebs/encryptionByDefault:EncryptionByDefault",
    group: "aws:autoscaling/group:Group",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    vpc: "aws:ec2/vpc:Vpc",
    defaultVpc: "aws:ec2/defaultVpc:DefaultVpc",
    flowLog: "aws:ec2/flowLog:FlowLog",
    subnet: "aws:ec2/subnet:Subnet",
    networkInterface: "aws:ec2/networkInterface:NetworkInterface",
    networkAcl: "aws:ec2/networkAcl:NetworkAcl",
    networkAclRule: "aws:ec2/networkAclRule:NetworkAclRule",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    key: "aws:kms/key:Key",
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    bucketAcl: "aws:s3/bucketAcl:BucketAcl",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketLogging: "aws:s3/bucketLogging:BucketLogging",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    policy: "aws:iam/policy:Policy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    user: "aws:iam/user:User",
    userPolicy: "aws:iam/userPolicy:UserPolicy",
    userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    ssmParameter: "aws:ssm/parameter:Parameter",
    secret: "aws:secretsmanager/secret:Secret",
    secretRotation: "aws:secretsmanager/secretRotation:SecretRotation",
} as const;

// ---- small predicates over recorded inputs ----

const lookup = (obj: unknown, dotted: string): any => dotted.split(".").reduce((o: any, k) => (o == null ? undefined : o[k]), obj);
/** A secret input is recorded as the engine's secret wrapper; its value is what AWS receives. */
const plain = (value: unknown): unknown => (value !== null && typeof value === "object" && !Array.isArray(value) && "value" in (value as object) ? (value as { value: unknown }).value : value);

/** Every resource of `type` satisfies `ok` (at least one must exist unless `optional`). */
function every(type: string, what: string, ok: (r: RecordedResource, stack: Stack) => boolean, optional = false): Check {
    return (stack) => {
        const found = ofType(stack.ev, type);
        if (found.length === 0) return optional ? [] : [`no ${type} to check`];
        return found.filter((r) => !ok(r, stack)).map((r) => `${r.name}: not ${what}`);
    };
}
const propertyIs = (type: string, property: string, expected: unknown): Check =>
    every(type, `${property} = ${JSON.stringify(expected)}`, (r) => plain(lookup(r.inputs, property)) === expected);
/** No resource of these types is registered. */
const none = (...types: string[]): Check => (stack) => types.flatMap((type) => ofType(stack.ev, type).map((r) => `${r.name}: a ${type} exists`));

/** Each bucket has exactly one resource of `type` pointing at it that satisfies `ok`. */
function perBucket(type: string, what: string, ok: (r: RecordedResource, stack: Stack) => boolean = () => true): Check {
    return (stack) => {
        const buckets = ofType(stack.ev, T.bucket);
        if (buckets.length === 0) return ["no bucket to check"];
        return buckets.flatMap((bucket) => {
            const attached = ofType(stack.ev, type).filter((r) => r.inputs.bucket === idOf(bucket));
            if (attached.length !== 1) return [`${bucket.name}: ${attached.length} ${type}`];
            return ok(attached[0], stack) ? [] : [`${bucket.name}: not ${what}`];
        });
    };
}

// Launch templates
const userDataText = (r: RecordedResource): string => Buffer.from(String(plain(r.inputs.userData) ?? ""), "base64").toString("utf8");
/** Every string inside a secret output (structured ones such as addonSecrets included). */
const strings = (value: unknown): string[] => (typeof value === "string" ? [value] : value !== null && typeof value === "object" ? Object.values(value).flatMap(strings) : []);
/** Every secret string of a stack: those inside secret outputs, and the bootstrap token (no output: read from the files nodes receive). */
const secretOutputValues = (stack: Stack): string[] => {
    const token = bootstrapTokenOf(stack.ev).secret;
    return [...Object.values(stack.ev.outputs).filter((o) => o.secret).flatMap((o) => strings(o.value)).filter((value) => value.length >= 8), token, Buffer.from(token).toString("base64")];
};
const credentialPatterns = [/AKIA[0-9A-Z]{16}/, /ASIA[0-9A-Z]{16}/, /aws_secret_access_key/i, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /client-key-data/, /\btoken:\s*[a-z0-9]{6}\.[a-z0-9]{16}\b/];
/** User data that holds no credential pattern and no secret output's value (and is not empty: a check that can fail). */
const freeOfSecrets = (text: string, stack: Stack) =>
    text.length > 0 && !credentialPatterns.some((p) => p.test(text)) && !secretOutputValues(stack).some((secret) => text.includes(secret));
const userDataHasNoSecrets = every(T.launchTemplate, "free of credentials and secret outputs in user data", (r, stack) => freeOfSecrets(userDataText(r), stack));
const rootVolumesEncryptedWithClusterKey = every(T.launchTemplate, "encrypting every block device with the cluster key", (r, stack) => {
    const mappings: any[] = r.inputs.blockDeviceMappings ?? [];
    return mappings.length > 0 && mappings.every((m) => m.ebs?.encrypted === "true" && m.ebs?.kmsKeyId === stack.keyArn);
});
const noPublicAddresses = every(T.launchTemplate, "without public addresses", (r) =>
    (r.inputs.networkInterfaces ?? []).every((ni: any) => String(ni.associatePublicIpAddress ?? "false") !== "true"));

// The NAT instance (dev's kaws:natGateways instance) is the only aws.ec2.Instance kaws creates.
const natInstanceName = (stack: Stack) => `${stack.clusterName}-nat-instance`;
const onlyTheNatInstance: Check = (stack) => {
    const instances = ofType(stack.ev, T.instance);
    if (instances.length === 0) return ["no NAT instance to check"];
    return instances.filter((r) => r.name !== natInstanceName(stack)).map((r) => `${r.name}: an aws.ec2.Instance other than the NAT instance`);
};
const instanceImdsV2 = propertyIs(T.instance, "metadataOptions.httpTokens", "required");
const instanceRootEncryptedWithClusterKey = every(T.instance, "encrypting its root volume with the cluster key", (r, stack) =>
    r.inputs.rootBlockDevice?.encrypted === true && r.inputs.rootBlockDevice?.kmsKeyId === stack.keyArn && (r.inputs.ebsBlockDevices ?? []).length === 0);
const instanceUserDataHasNoSecrets = every(T.instance, "free of credentials and secret outputs in user data", (r, stack) => freeOfSecrets(String(plain(r.inputs.userData) ?? ""), stack));
/** prod has no aws.ec2.Instance; dev has exactly the NAT instance, checked as `dev` says. */
const withNatInstance = (prod: Classification, dev: Classification): Entry => ({ perEnv: { prod, dev } });

// Security groups: every ingress or egress permission, whichever resource declares it
interface Permission { where: string; groupId: string; protocol: string; from: number; to: number; cidrs: string[]; sourceGroup?: string; description?: string }
function permissions(ev: Evaluation, direction: "ingress" | "egress"): Permission[] {
    const protocolOf = (p: unknown) => (String(p) === "all" ? "-1" : String(p));
    const inline = ofType(ev, T.securityGroup).flatMap((sg) => (sg.inputs[direction] ?? []).map((rule: any, i: number): Permission => ({
        where: `${sg.name}.${direction}[${i}]`, groupId: idOf(sg), protocol: protocolOf(rule.protocol), from: rule.fromPort, to: rule.toPort,
        cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])], sourceGroup: rule.securityGroups?.[0], description: rule.description,
    })));
    const legacy = ofType(ev, T.securityGroupRule).filter((r) => r.inputs.type === direction).map((r): Permission => ({
        where: r.name, groupId: r.inputs.securityGroupId, protocol: protocolOf(r.inputs.protocol), from: r.inputs.fromPort, to: r.inputs.toPort,
        cidrs: [...(r.inputs.cidrBlocks ?? []), ...(r.inputs.ipv6CidrBlocks ?? [])], sourceGroup: r.inputs.sourceSecurityGroupId, description: r.inputs.description,
    }));
    const rules = ofType(ev, direction === "ingress" ? T.ingressRule : T.egressRule).map((r): Permission => ({
        where: r.name, groupId: r.inputs.securityGroupId, protocol: protocolOf(r.inputs.ipProtocol),
        from: r.inputs.fromPort ?? 0, to: r.inputs.toPort ?? 65535,
        cidrs: [r.inputs.cidrIpv4, r.inputs.cidrIpv6].filter(Boolean), sourceGroup: r.inputs.referencedSecurityGroupId, description: r.inputs.description,
    }));
    return [...inline, ...legacy, ...rules];
}
const world = ["0.0.0.0/0", "::/0"];
const fromWorld = (p: Permission) => p.cidrs.some((c) => world.includes(c));
const allPorts = (p: Permission) => p.protocol === "-1" || (p.from <= 0 && p.to >= 65535);
const covers = (p: Permission, port: number, protocol = "tcp") => p.protocol === "-1" || (p.protocol === protocol && p.from <= port && port <= p.to);
const noWorldIngressOn = (...ports: number[]): Check => ({ ev }) =>
    permissions(ev, "ingress").filter((p) => fromWorld(p) && ports.some((port) => covers(p, port) || covers(p, port, "udp"))).map((p) => `${p.where} opens ${ports.join("/")} to the world`);
const noWorldIngressOnAllPorts: Check = ({ ev }) =>
    permissions(ev, "ingress").filter((p) => fromWorld(p) && allPorts(p)).map((p) => `${p.where} opens every port to the world`);
/** The id of the cluster's security group for `kind` (etcd, controlplane, workers, api-lb). */
const groupId = (stack: Stack, kind: string): string => {
    const group = ofType(stack.ev, T.securityGroup).find((sg) => sg.name === `${stack.clusterName}-${kind}`);
    if (!group) throw new Error(`no security group ${stack.clusterName}-${kind}`);
    return idOf(group);
};
const vpcCidr = (stack: Stack): string => ofType(stack.ev, T.vpc)[0].inputs.cidrBlock;
const inside = (cidr: string, outer: string): boolean => {
    const [a, aBits] = cidr.split("/");
    const [b, bBits] = outer.split("/");
    const num = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const mask = (bits: number) => (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);
    return !a.includes(":") && Number(aBits) >= Number(bBits) && ((num(a) & mask(Number(bBits))) >>> 0) === ((num(b) & mask(Number(bBits))) >>> 0);
};
const apiIngressFromVpcOrAllowList: Check = (stack) => {
    const allowed: string[] = JSON.parse(loadStackConfig(root, stack.env)["kaws:apiAllowedCidrs"] ?? "[]");
    const rules = permissions(stack.ev, "ingress").filter((p) => covers(p, 6443));
    if (rules.length === 0) return ["no ingress rule for 6443"];
    return rules.filter((p) => p.cidrs.some((c) => !inside(c, vpcCidr(stack)) && !allowed.includes(c)) || (stack.env === "prod" && fromWorld(p)))
        .map((p) => `${p.where} admits ${p.cidrs.join(",")} to 6443`);
};
/** The NAT instance's group admits all of the private subnets' traffic (to forward it); it guards no cluster port. */
const natGroups = (stack: Stack): string[] => ofType(stack.ev, T.securityGroup).filter((sg) => sg.name === natInstanceName(stack)).map(idOf);
const etcdPortsOnlyFromGroups: Check = (stack) => {
    const allowed: Record<number, string[]> = { 2379: [groupId(stack, "controlplane"), groupId(stack, "etcd")], 2380: [groupId(stack, "etcd")] };
    const rules = permissions(stack.ev, "ingress").filter((p) => !natGroups(stack).includes(p.groupId) && (covers(p, 2379) || covers(p, 2380)));
    if (rules.length === 0) return ["no etcd ingress rule"];
    return rules.filter((p) => p.cidrs.length > 0 || [2379, 2380].some((port) => covers(p, port) && !allowed[port].includes(p.sourceGroup ?? "")))
        .map((p) => `${p.where} admits ${p.cidrs.join(",") || p.sourceGroup} to etcd ports`);
};
const weaveOnlyBetweenNodes: Check = (stack) => {
    const nodes = [groupId(stack, "controlplane"), groupId(stack, "workers")];
    const weave = (p: Permission) => p.protocol === "50" || covers(p, 6783) || covers(p, 6783, "udp") || covers(p, 6784, "udp");
    const rules = permissions(stack.ev, "ingress").filter((p) => !natGroups(stack).includes(p.groupId) && weave(p));
    const problems = rules.filter((p) => p.cidrs.length > 0 || !nodes.includes(p.sourceGroup ?? "") || !nodes.includes(p.groupId))
        .map((p) => `${p.where} admits ${p.cidrs.join(",") || p.sourceGroup} to weave`);
    for (const to of nodes) for (const from of nodes) {
        const between = rules.filter((p) => p.groupId === to && p.sourceGroup === from);
        const has = { esp: between.some((p) => p.protocol === "50"), tcp: between.some((p) => covers(p, 6783)), udp: between.some((p) => covers(p, 6783, "udp") && covers(p, 6784, "udp")) };
        for (const [what, ok] of Object.entries(has)) if (!ok) problems.push(`no weave ${what} from ${from} to ${to}`);
    }
    return problems;
};
const everyRuleDescribed: Check = ({ ev }) => [...permissions(ev, "ingress"), ...permissions(ev, "egress")]
    .filter((p) => !p.description?.trim()).map((p) => `${p.where} has no description`);
const defaultGroupClosed = every(T.defaultSecurityGroup, "closed (no ingress, no egress)", (r) =>
    Array.isArray(r.inputs.ingress) && r.inputs.ingress.length === 0 && Array.isArray(r.inputs.egress) && r.inputs.egress.length === 0);
const oneDefaultGroupPerVpc: Check = ({ ev }) => ofType(ev, T.vpc)
    .filter((vpc) => ofType(ev, T.defaultSecurityGroup).filter((d) => d.inputs.vpcId === idOf(vpc)).length !== 1).map((vpc) => `${vpc.name}: default security group not managed`);
const everyGroupAttached: Check = ({ ev }) => {
    const used = new Set<string>([
        ...ofType(ev, T.launchTemplate).flatMap((r) => r.inputs.vpcSecurityGroupIds ?? []),
        ...ofType(ev, T.networkInterface).flatMap((r) => r.inputs.securityGroups ?? []),
        ...ofType(ev, T.loadBalancer).flatMap((r) => r.inputs.securityGroups ?? []),
        ...ofType(ev, T.instance).flatMap((r) => r.inputs.vpcSecurityGroupIds ?? []),
    ]);
    return ofType(ev, T.securityGroup).filter((sg) => !used.has(idOf(sg))).map((sg) => `${sg.name} is attached to nothing`);
};
const worldEgress = (ev: Evaluation, which: (p: Permission) => boolean) => [...new Set(permissions(ev, "egress").filter((p) => fromWorld(p) && which(p)).map((p) => p.groupId))].sort();
const onlyGroupsHaveWorldEgress = (kinds: string[], which: (p: Permission) => boolean): Check => (stack) => {
    const actual = worldEgress(stack.ev, which);
    const expected = kinds.map((k) => groupId(stack, k)).sort();
    return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`world egress from ${actual.join(",")}, expected exactly ${expected.join(",")}`];
};

// Flow logs
const vpcHasFlowLog: Check = ({ ev }) => ofType(ev, T.vpc)
    .filter((vpc) => !ofType(ev, T.flowLog).some((f) => f.inputs.vpcId === idOf(vpc) && ["ALL", "REJECT"].includes(f.inputs.trafficType)))
    .map((vpc) => `${vpc.name} has no flow log`);
const flowLogsOffInDev: Check = (stack) => (ofType(stack.ev, T.flowLog).length === 0 && ofType(stack.ev, T.logGroup).length === 0 ? [] : ["dev has flow logs: reclassify"]);
/** Log-group rows: prod's flow-log group is checked; dev has no log group at all (flowLogs is off there). */
const logGroupRow = (check: Check): Entry => ({
    perEnv: {
        dev: notApplicable("dev runs with kaws:flowLogs false, so no CloudWatch log group exists", none(T.logGroup)),
        prod: met(check),
    },
});

// KMS
const keyPolicyStatements = (r: RecordedResource): any[] => JSON.parse(r.inputs.policy).Statement;
const noUnconditionedWildcardPrincipal = every(T.key, "free of Allow to Principal AWS * without a Condition", (r) =>
    keyPolicyStatements(r).every((s) => s.Effect !== "Allow" || !(s.Principal === "*" || [s.Principal?.AWS].flat().includes("*")) || s.Condition));

// S3
const bucketAllowsNobodyPublicly = every(T.bucketPolicy, "free of Allow to Principal *", (r) =>
    JSON.parse(r.inputs.policy).Statement.every((s: any) => s.Effect === "Deny" || !(s.Principal === "*" || [s.Principal?.AWS].flat().includes("*"))));
const bucketPolicyLocksNobodyOut = every(T.bucketPolicy, "free of an unconditional Deny to everyone", (r) =>
    JSON.parse(r.inputs.policy).Statement.every((s: any) => s.Effect !== "Deny" || s.Condition));
const noPublicAcl = all(none(T.bucketAcl), every(T.bucket, "without a canned ACL", (r) => r.inputs.acl === undefined), perBucket(T.ownership, "BucketOwnerEnforced", (r) => r.inputs.rule?.objectOwnership === "BucketOwnerEnforced"));
const bucketSseIs = (ok: (rule: any, stack: Stack) => boolean) => perBucket(T.sse, "encrypted as required", (r, stack) =>
    (r.inputs.rules ?? []).length > 0 && r.inputs.rules.every((rule: any) => ok(rule.applyServerSideEncryptionByDefault ?? {}, stack)));
const sseWithClusterKey = bucketSseIs((d, stack) => d.sseAlgorithm === "aws:kms" && d.kmsMasterKeyId === stack.keyArn);

// IAM
interface PolicyDocument { where: string; statements: any[] }
function policyDocuments(ev: Evaluation): PolicyDocument[] {
    const docs = [...ofType(ev, T.rolePolicy), ...ofType(ev, T.policy)].map((r) => ({ where: r.name, statements: [JSON.parse(r.inputs.policy).Statement].flat() }));
    const inline = ofType(ev, T.role).flatMap((r) => (r.inputs.inlinePolicies ?? []).map((p: any, i: number) => ({ where: `${r.name}.inlinePolicies[${i}]`, statements: [JSON.parse(p.policy).Statement].flat() })));
    return [...docs, ...inline];
}
const allowStatements = (ev: Evaluation) => policyDocuments(ev).flatMap((d) => d.statements.filter((s) => s.Effect === "Allow").map((s) => ({ where: `${d.where}/${s.Sid ?? "?"}`, actions: [s.Action].flat() as string[], resources: [s.Resource].flat() as string[], statement: s })));
const noAllowedAction = (what: string, bad: (action: string, resources: string[]) => boolean): Check => ({ ev }) => {
    const statements = allowStatements(ev);
    if (statements.length === 0) return ["no IAM policy to check"];
    return statements.flatMap((s) => s.actions.filter((a) => bad(a, s.resources)).map((a) => `${s.where} allows ${a} (${what})`));
};
/** What AWS offers no resource scoping for: read-only Describe calls and the two named exceptions (README "Security groups and IAM"). */
const unscopableActions = new Set(["ecr:GetAuthorizationToken", "ec2:GetInstanceTypesFromInstanceRequirements"]);
const scopableOnWildcard: Check = noAllowedAction("a restrictable action on Resource *", (action, resources) =>
    resources.includes("*") && !unscopableActions.has(action) && !/^[a-z0-9-]+:Describe[A-Za-z]+$/.test(action));
const noStarStar = noAllowedAction("Action * on Resource *", (action, resources) => action === "*" && resources.includes("*"));
const noStarAction = noAllowedAction("Action *", (action) => action === "*" || action.endsWith(":*"));
const privilegeEscalation = /^iam:(PassRole|Create(PolicyVersion|AccessKey|LoginProfile)|SetDefaultPolicyVersion|(Attach|Put)(Role|User|Group)Policy|UpdateAssumeRolePolicy|UpdateLoginProfile|AddUserToGroup)$|^(lambda|cloudformation|glue|datapipeline|sts):/;
const noPrivilegeEscalation = noAllowedAction("privilege escalation", (action) => privilegeEscalation.test(action) || action === "*" || action === "iam:*");
const credentialsExposure = /^(iam:(CreateAccessKey|UpdateAccessKey|CreateServiceSpecificCredential|ResetServiceSpecificCredential|CreateLoginProfile|UpdateLoginProfile)|sts:(GetFederationToken|GetSessionToken|AssumeRole.*)|ec2:GetPasswordData|redshift:GetClusterCredentials|lightsail:GetInstanceAccessDetails)$/;
const noCredentialsExposure = noAllowedAction("credentials exposure", (action) => credentialsExposure.test(action));
const noIamStar = noAllowedAction("iam:*", (action) => action === "*" || action === "iam:*" || /^iam:.*\*/.test(action));
const noPassRoleAnywhere = noAllowedAction("iam:PassRole", (action) => action === "iam:PassRole" || action === "iam:*" || action === "*");
const noS3Star = noAllowedAction("s3:*", (action) => action === "s3:*" || action === "*");
const attachmentIsNot = (arnSuffix: string) => every(T.rolePolicyAttachment, `other than ${arnSuffix}`, (r) => !String(r.inputs.policyArn).endsWith(`:policy/${arnSuffix}`));
const trustOnlyServices = every(T.role, "trusting only AWS service principals", (r) =>
    JSON.parse(r.inputs.assumeRolePolicy).Statement.every((s: any) => s.Effect !== "Allow" || (s.Principal?.Service && !s.Principal?.AWS && s.Principal !== "*")));
/** The offline engine answers only the invokes it knows; a call to aws.iam.getPolicyDocument would fail evaluation. */
const noPolicyDocumentInvoke: Check = () => {
    try {
        invokeResult("aws:iam/getPolicyDocument:getPolicyDocument", "eu-west-1");
        return ["the offline engine answers aws.iam.getPolicyDocument: the program could be using it"];
    } catch {
        return [];
    }
};

// Load balancer
const onlyNetworkLoadBalancers = every(T.loadBalancer, "a network load balancer", (r) => r.inputs.loadBalancerType === "network");
const noTlsListener = every(T.listener, "a plain TCP listener", (r) => r.inputs.protocol === "TCP");
const classifiedMet = (...ids: string[]): Check => (stack) => ids.filter((id) => classify(id, stack.env)?.verdict !== "met").map((id) => `${id} is not classified met`);

const egressNote = "etcd and control-plane nodes need HTTPS to anywhere (AWS APIs, registries, release downloads: kaws creates no interface endpoints), and workers keep open egress (see CKV_AWS_382); everything else is limited to the VPC";
const notMetNoteWorkerEgress = "worker nodes keep all-port egress to anywhere: workloads reach registries, AWS APIs and their own dependencies; restrict it per workload with NetworkPolicy or an egress firewall";
const https = (p: Permission) => p.protocol === "tcp" && p.from === 443 && p.to === 443;

const table: Record<string, Entry> = {
    // EC2 instances and launch templates (etcd members, control plane and workers all run from launch templates in ASGs)
    CKV_AWS_79: withNatInstance(met(propertyIs(T.launchTemplate, "metadataOptions.httpTokens", "required"), none(T.instance)),
        met(propertyIs(T.launchTemplate, "metadataOptions.httpTokens", "required"), onlyTheNatInstance, instanceImdsV2)),
    "AVD-AWS-0130": met(propertyIs(T.launchTemplate, "metadataOptions.httpTokens", "required")),
    "AVD-AWS-0028": withNatInstance(notApplicable("no aws.ec2.Instance is created (etcd members are ASGs of one)", none(T.instance)), met(onlyTheNatInstance, instanceImdsV2)),
    CKV_AWS_341: met(propertyIs(T.launchTemplate, "metadataOptions.httpPutResponseHopLimit", 1)),
    CKV_AWS_8: withNatInstance(met(rootVolumesEncryptedWithClusterKey, none(T.instance, T.launchConfiguration)),
        met(rootVolumesEncryptedWithClusterKey, onlyTheNatInstance, instanceRootEncryptedWithClusterKey, none(T.launchConfiguration))),
    "AVD-AWS-0131": withNatInstance(notApplicable("no aws.ec2.Instance is created", none(T.instance)), met(onlyTheNatInstance, instanceRootEncryptedWithClusterKey)),
    "AVD-AWS-0008": notApplicable("no launch configurations (launch templates only)", none(T.launchConfiguration)),
    "CUSTOM-LT-EBS-ENC": met(rootVolumesEncryptedWithClusterKey),
    CKV_AWS_106: notMet("EBS encryption by default is an account-wide setting a cluster stack must not own (destroying one cluster would switch it off for the account); every volume kaws creates is encrypted with the cluster key explicitly", none(T.encryptionByDefault), rootVolumesEncryptedWithClusterKey, propertyIs(T.volume, "encrypted", true)),
    CKV_AWS_3: met(propertyIs(T.volume, "encrypted", true)),
    CKV_AWS_189: met(every(T.volume, "encrypted with the cluster key", (r, s) => r.inputs.kmsKeyId === s.keyArn)),
    "AVD-AWS-0026": met(propertyIs(T.volume, "encrypted", true)),
    "AVD-AWS-0027": met(every(T.volume, "encrypted with the cluster key", (r, s) => r.inputs.kmsKeyId === s.keyArn)),
    CKV2_AWS_2: met(propertyIs(T.volume, "encrypted", true), none(T.volumeAttachment)),
    CKV_AWS_88: withNatInstance(met(noPublicAddresses, none(T.instance), propertyIs(T.subnet, "mapPublicIpOnLaunch", false)),
        notMet("the NAT instance has a public address by design: its network interface holds the Elastic IP the private subnets' traffic leaves from; no node has one",
            noPublicAddresses, onlyTheNatInstance, propertyIs(T.subnet, "mapPublicIpOnLaunch", false))),
    "AVD-AWS-0009": notApplicable("no launch configurations", none(T.launchConfiguration)),
    CKV_AWS_46: withNatInstance(met(userDataHasNoSecrets, none(T.instance, T.launchConfiguration)),
        met(userDataHasNoSecrets, onlyTheNatInstance, instanceUserDataHasNoSecrets, none(T.launchConfiguration))),
    "AVD-AWS-0029": withNatInstance(notApplicable("no aws.ec2.Instance is created", none(T.instance)), met(onlyTheNatInstance, instanceUserDataHasNoSecrets)),
    "AVD-AWS-0129": met(userDataHasNoSecrets),
    "AVD-AWS-0122": notApplicable("no launch configurations", none(T.launchConfiguration)),
    CKV_AWS_126: withNatInstance(met(propertyIs(T.launchTemplate, "monitoring.enabled", true), none(T.instance)),
        notMet("dev runs with kaws:detailedMonitoring false: the free five-minute metrics instead of about $2.10 per instance a month; prod keeps one-minute metrics",
            propertyIs(T.launchTemplate, "monitoring.enabled", false), onlyTheNatInstance, propertyIs(T.instance, "monitoring", false))),
    CKV_AWS_135: withNatInstance(met(propertyIs(T.launchTemplate, "ebsOptimized", "true"), none(T.instance)),
        met(propertyIs(T.launchTemplate, "ebsOptimized", "true"), onlyTheNatInstance, propertyIs(T.instance, "ebsOptimized", true))),
    CKV2_AWS_41: withNatInstance(met(every(T.launchTemplate, "given an instance profile", (r) => Boolean(r.inputs.iamInstanceProfile?.name || r.inputs.iamInstanceProfile?.arn)), none(T.instance)),
        notMet("the NAT instance calls no AWS API (the stack owns its interface, address and routes), so it gets no role at all; every node has its instance profile",
            every(T.launchTemplate, "given an instance profile", (r) => Boolean(r.inputs.iamInstanceProfile?.name || r.inputs.iamInstanceProfile?.arn)),
            onlyTheNatInstance, every(T.instance, "without an instance profile", (r) => r.inputs.iamInstanceProfile === undefined))),

    // Auto Scaling
    CKV_AWS_315: met(every(T.group, "launched from a launch template", (r) => Boolean(r.inputs.launchTemplate?.id || r.inputs.mixedInstancesPolicy?.launchTemplate) && !r.inputs.launchConfiguration)),
    CKV_AWS_153: met(every(T.group, "tagged with the cluster tag", (r, s) => (r.inputs.tags ?? []).some((t: any) => t.key === `kubernetes.io/cluster/${s.clusterName}` && t.value === "owned"))),
    CKV2_AWS_15: notMet("the control-plane group uses EC2 health: its target group checks /readyz, which fails whenever etcd does, so ELB health would replace every control-plane node during an etcd outage or restore; the target group still routes only to ready API servers",
        every(T.group, "on EC2 health", (r) => r.inputs.healthCheckType === "EC2"),
        (stack) => (ofType(stack.ev, T.group).some((r) => (r.inputs.targetGroupArns ?? []).length > 0) ? [] : ["no group behind a target group"])),

    // Security groups
    CKV_AWS_24: met(noWorldIngressOn(22)),
    "AVD-AWS-0107": met(noWorldIngressOn(22, 3389)),
    CKV_AWS_25: met(noWorldIngressOn(3389)),
    CKV_AWS_260: met(noWorldIngressOn(80)),
    CKV_AWS_277: met(noWorldIngressOnAllPorts),
    "CUSTOM-SG-6443": met(apiIngressFromVpcOrAllowList),
    "CUSTOM-SG-ETCD": met(etcdPortsOnlyFromGroups),
    "CUSTOM-SG-WEAVE": met(weaveOnlyBetweenNodes),
    CKV_AWS_382: withNatInstance(notMet(notMetNoteWorkerEgress, onlyGroupsHaveWorldEgress(["workers"], allPorts)),
        notMet(`${notMetNoteWorkerEgress}; the NAT instance forwards the private subnets' traffic to anywhere, which is its job`, onlyGroupsHaveWorldEgress(["workers", "nat-instance"], allPorts))),
    "AVD-AWS-0104": withNatInstance(notMet(egressNote, onlyGroupsHaveWorldEgress(["controlplane", "etcd"], https), onlyGroupsHaveWorldEgress(["controlplane", "etcd", "workers"], () => true)),
        notMet(`${egressNote}; the NAT instance forwards to anywhere (see CKV_AWS_382)`, onlyGroupsHaveWorldEgress(["controlplane", "etcd"], https), onlyGroupsHaveWorldEgress(["controlplane", "etcd", "nat-instance", "workers"], () => true))),
    CKV_AWS_23: met(every(T.securityGroup, "described", (r) => Boolean(r.inputs.description?.trim())), everyRuleDescribed),
    "AVD-AWS-0099": met(every(T.securityGroup, "described", (r) => Boolean(r.inputs.description?.trim()))),
    "AVD-AWS-0124": met(everyRuleDescribed),
    CKV2_AWS_12: met(defaultGroupClosed, oneDefaultGroupPerVpc),
    "AVD-AWS-0173": met(defaultGroupClosed),
    CKV2_AWS_5: met(everyGroupAttached),

    // VPC
    CKV2_AWS_11: { perEnv: { dev: notMet("dev runs with kaws:flowLogs false to save CloudWatch ingestion; prod sends all traffic", flowLogsOffInDev), prod: met(vpcHasFlowLog) } },
    "AVD-AWS-0178": { perEnv: { dev: notMet("dev runs with kaws:flowLogs false (as CKV2_AWS_11)", flowLogsOffInDev), prod: met(vpcHasFlowLog) } },
    CKV_AWS_148: met(none(T.defaultVpc), every(T.vpc, "a dedicated VPC", () => true)),
    "AVD-AWS-0101": met(none(T.defaultVpc), every(T.vpc, "a dedicated VPC", () => true)),
    CKV_AWS_130: met(propertyIs(T.subnet, "mapPublicIpOnLaunch", false)),
    "AVD-AWS-0164": met(propertyIs(T.subnet, "mapPublicIpOnLaunch", false)),
    CKV2_AWS_1: notApplicable("no custom network ACLs (security groups only)", none(T.networkAcl, T.networkAclRule)),
    CKV_AWS_352: notApplicable("no custom network ACLs", none(T.networkAcl, T.networkAclRule)),
    "AVD-AWS-0102": notApplicable("no custom network ACLs", none(T.networkAcl, T.networkAclRule)),
    CKV_AWS_232: notApplicable("no custom network ACLs", none(T.networkAcl, T.networkAclRule)),
    "AVD-AWS-0105": notApplicable("no custom network ACLs", none(T.networkAcl, T.networkAclRule)),

    // CloudWatch Logs (the VPC flow-log group)
    CKV_AWS_66: logGroupRow(every(T.logGroup, "given a retention", (r) => Number(r.inputs.retentionInDays) > 0)),
    CKV_AWS_338: logGroupRow(every(T.logGroup, "kept at least 365 days", (r) => Number(r.inputs.retentionInDays) >= 365)),
    CKV_AWS_158: logGroupRow(every(T.logGroup, "encrypted with the cluster key", (r, s) => r.inputs.kmsKeyId === s.keyArn)),
    "AVD-AWS-0017": logGroupRow(every(T.logGroup, "encrypted with the cluster key", (r, s) => r.inputs.kmsKeyId === s.keyArn)),

    // KMS
    CKV_AWS_7: met(propertyIs(T.key, "enableKeyRotation", true)),
    "AVD-AWS-0065": met(propertyIs(T.key, "enableKeyRotation", true)),
    CKV_AWS_33: met(noUnconditionedWildcardPrincipal),
    CKV2_AWS_64: met(every(T.key, "given an explicit key policy", (r) => keyPolicyStatements(r).length > 0)),
    CKV_AWS_227: met(every(T.key, "enabled", (r) => r.inputs.isEnabled !== false)),
    "CUSTOM-KMS-DELETION": met(every(T.key, "given the deletion window its environment needs", (r, s) => (s.env === "prod" ? r.inputs.deletionWindowInDays === 30 : r.inputs.deletionWindowInDays >= 7))),

    // S3 (the assets bucket: node files and etcd snapshots)
    CKV_AWS_53: met(perBucket(T.publicAccessBlock, "blocking public ACLs", (r) => r.inputs.blockPublicAcls === true)),
    CKV_AWS_54: met(perBucket(T.publicAccessBlock, "blocking public policies", (r) => r.inputs.blockPublicPolicy === true)),
    CKV_AWS_55: met(perBucket(T.publicAccessBlock, "ignoring public ACLs", (r) => r.inputs.ignorePublicAcls === true)),
    CKV_AWS_56: met(perBucket(T.publicAccessBlock, "restricting public buckets", (r) => r.inputs.restrictPublicBuckets === true)),
    CKV2_AWS_6: met(perBucket(T.publicAccessBlock, "blocked")),
    "AVD-AWS-0086": met(perBucket(T.publicAccessBlock, "blocking public ACLs", (r) => r.inputs.blockPublicAcls === true)),
    "AVD-AWS-0087": met(perBucket(T.publicAccessBlock, "blocking public policies", (r) => r.inputs.blockPublicPolicy === true)),
    "AVD-AWS-0091": met(perBucket(T.publicAccessBlock, "ignoring public ACLs", (r) => r.inputs.ignorePublicAcls === true)),
    "AVD-AWS-0093": met(perBucket(T.publicAccessBlock, "restricting public buckets", (r) => r.inputs.restrictPublicBuckets === true)),
    "AVD-AWS-0094": met(perBucket(T.publicAccessBlock, "blocked"), none(T.bucketV2)),
    CKV_AWS_19: met(bucketSseIs((d) => ["aws:kms", "AES256"].includes(d.sseAlgorithm))),
    CKV_AWS_145: met(sseWithClusterKey),
    "AVD-AWS-0132": met(sseWithClusterKey),
    "AVD-AWS-0088": met(bucketSseIs((d) => Boolean(d.sseAlgorithm))),
    CKV_AWS_21: met(perBucket(T.versioning, "versioned", (r) => r.inputs.versioningConfiguration?.status === "Enabled")),
    "AVD-AWS-0090": met(perBucket(T.versioning, "versioned", (r) => r.inputs.versioningConfiguration?.status === "Enabled")),
    CKV_AWS_18: notMet("S3 server access logging needs a second log bucket per cluster (SSE-S3 only, best-effort delivery, never logged itself); the assets bucket is read only by node roles on their own prefixes — use an account CloudTrail with S3 data events for who-read-what", none(T.bucketLogging)),
    "AVD-AWS-0089": notMet("as CKV_AWS_18: no server access log bucket; CloudTrail S3 data events are the audit trail", none(T.bucketLogging)),
    CKV_AWS_144: notMet("no cross-region replication: node files are regenerated by every update, and a disaster-recovery copy of etcd snapshots belongs in the operator's backup region and account (its own bucket and key)"),
    CKV_AWS_143: notMet("no object lock: it would make node files immutable and the bucket undeletable by `kaws destroy`; snapshots expire by lifecycle and versioning keeps overwritten objects 30 days"),
    CKV2_AWS_61: met(perBucket(T.lifecycle, "expiring old versions", (r) => (r.inputs.rules ?? []).some((rule: any) => rule.status === "Enabled" && rule.noncurrentVersionExpiration))),
    CKV_AWS_300: met(perBucket(T.lifecycle, "aborting incomplete multipart uploads bucket-wide", (r) =>
        (r.inputs.rules ?? []).some((rule: any) => rule.status === "Enabled" && (rule.filter?.prefix ?? "") === "" && rule.abortIncompleteMultipartUpload?.daysAfterInitiation > 0))),
    CKV2_AWS_62: notMet("no S3 event notifications: nothing consumes the bucket's events"),
    CKV_AWS_20: met(noPublicAcl),
    CKV_AWS_57: met(noPublicAcl),
    "AVD-AWS-0092": met(noPublicAcl),
    CKV2_AWS_65: met(perBucket(T.ownership, "BucketOwnerEnforced", (r) => r.inputs.rule?.objectOwnership === "BucketOwnerEnforced")),
    CKV_AWS_70: met(bucketAllowsNobodyPublicly),
    CKV_AWS_93: met(bucketPolicyLocksNobodyOut),
    "AVD-AWS-0320": met(every(T.bucket, "DNS-compliant without dots", (r) => /^[a-z0-9][a-z0-9-]*$/.test(r.inputs.bucket ?? r.inputs.bucketPrefix))),
    "AVD-AWS-0170": notMet("MFA delete can only be enabled by the root user with its MFA device, not by infrastructure code"),

    // The API load balancer (NLB, TCP passthrough: the apiserver authenticates clients by mutual TLS)
    CKV_AWS_91: notMet("NLB access logs are written only for TLS listeners; the API listener is TCP passthrough, so enabling them records nothing — VPC flow logs and the apiserver audit log cover forensics", noTlsListener),
    CKV_AWS_150: notMet("no deletion protection: `kaws destroy` removes the whole cluster in one confirmed pass, the NLB holds no state, and a replacement shows in every preview", every(T.loadBalancer, "unprotected", (r) => !r.inputs.enableDeletionProtection)),
    CKV_AWS_152: met(propertyIs(T.loadBalancer, "enableCrossZoneLoadBalancing", true)),
    "AVD-AWS-0053": met(propertyIs(T.loadBalancer, "internal", true)),
    CKV_AWS_2: met(every(T.listener, "TLS/TCP/UDP or HTTPS", (r) => ["HTTPS", "TLS", "TCP", "UDP", "TCP_UDP"].includes(r.inputs.protocol))),
    CKV_AWS_103: notApplicable("no TLS listener: the API NLB is TCP passthrough", noTlsListener),
    CKV2_AWS_74: notApplicable("no TLS listener: the API NLB is TCP passthrough", noTlsListener),
    "AVD-AWS-0047": notApplicable("no TLS listener: the API NLB is TCP passthrough", noTlsListener),
    CKV_AWS_378: met(every(T.targetGroup, "other than HTTP", (r) => r.inputs.protocol !== "HTTP")),
    "AVD-AWS-0054": met(every(T.listener, "other than HTTP", (r) => r.inputs.protocol !== "HTTP")),
    CKV_AWS_261: met(every(T.targetGroup, "health-checked over HTTPS on /readyz", (r) => r.inputs.healthCheck?.protocol === "HTTPS" && r.inputs.healthCheck?.path === "/readyz")),
    CKV_AWS_131: notApplicable("application load balancers only; the API load balancer is an NLB", onlyNetworkLoadBalancers),
    CKV_AWS_328: notApplicable("application/classic load balancers only; the API load balancer is an NLB", onlyNetworkLoadBalancers),

    // IAM
    CKV_AWS_62: met(noStarStar),
    CKV_AWS_1: notApplicable("policies are JSON documents; aws.iam.getPolicyDocument is never called", noPolicyDocumentInvoke),
    CKV_AWS_63: met(noStarAction),
    CKV_AWS_49: notApplicable("aws.iam.getPolicyDocument is never called", noPolicyDocumentInvoke),
    CKV_AWS_355: met(scopableOnWildcard),
    CKV_AWS_356: notApplicable("aws.iam.getPolicyDocument is never called", noPolicyDocumentInvoke),
    CKV_AWS_286: met(noPrivilegeEscalation),
    CKV_AWS_287: met(noCredentialsExposure),
    CKV_AWS_288: met(scopableOnWildcard),
    CKV_AWS_289: met(scopableOnWildcard, noIamStar),
    CKV_AWS_290: met(scopableOnWildcard),
    "CKV_AWS_107-111": notApplicable("aws.iam.getPolicyDocument is never called", noPolicyDocumentInvoke),
    CKV_AWS_274: met(attachmentIsNot("AdministratorAccess")),
    CKV_AWS_275: notApplicable("no customer-managed aws.iam.Policy: node permissions are inline role policies (CKV_AWS_62 covers them)", none(T.policy)),
    CKV2_AWS_40: met(noIamStar),
    CKV2_AWS_56: met(attachmentIsNot("IAMFullAccess")),
    CKV_AWS_60: met(trustOnlyServices),
    CKV_AWS_61: met(trustOnlyServices),
    CKV_AWS_40: met(none(T.user, T.userPolicy, T.userPolicyAttachment, T.policyAttachment)),
    "AVD-AWS-0143": met(none(T.user, T.userPolicy, T.userPolicyAttachment, T.policyAttachment)),
    "AVD-AWS-0342": met(noPassRoleAnywhere),
    "AVD-AWS-0345": met(noS3Star),
    "AVD-AWS-0057": notApplicable("deprecated upstream; superseded by CKV_AWS_62, CKV_AWS_63 and CKV_AWS_355, all met", classifiedMet("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355")),

    // Secrets: node secrets travel as SSE-KMS objects in the assets bucket, readable only by their role's prefix
    CKV2_AWS_34: notApplicable("no SSM parameters: node secrets are SSE-KMS objects in the assets bucket", none(T.ssmParameter)),
    CKV_AWS_337: notApplicable("no SSM parameters", none(T.ssmParameter)),
    CKV_AWS_149: notApplicable("no Secrets Manager secrets", none(T.secret)),
    "AVD-AWS-0098": notApplicable("no Secrets Manager secrets", none(T.secret)),
    CKV2_AWS_57: notApplicable("no Secrets Manager secrets (certificates and keys rotate through leafCertGeneration/caGeneration)", none(T.secret, T.secretRotation)),
};

function classify(id: string, env: Env, from: Record<string, Entry> = table): Classification | undefined {
    const entry = from[id];
    return entry && "perEnv" in entry ? entry.perEnv[env] : entry;
}

/** Problems with one row in one stack: a met row that fails, a confirmation that no longer holds, or no classification. */
function judge(id: string, stack: Stack, from: Record<string, Entry> = table): string[] {
    const c = classify(id, stack.env, from);
    if (!c) return ["unclassified"];
    if (c.verdict === "met") return c.check(stack);
    if (!c.reason.trim()) return [`${c.verdict} without a reason`];
    return c.confirm ? c.confirm(stack).map((p) => `${c.verdict}, but ${p}`) : [];
}

function stackOf(ev: Evaluation, env: Env): Stack {
    const region = ev.outputs.region.value as string;
    const keys = ofType(ev, T.key);
    if (keys.length !== 1) throw new Error(`${env}: expected one KMS key, found ${keys.length}`);
    return { ev, env, clusterName: ev.outputs.clusterName.value as string, region, keyArn: placeholderArn(region, T.key, keys[0].name) };
}

/** A copy of the stack where resources of `type` get `patch` applied to their inputs (and `extra` are added). */
function broken(stack: Stack, type: string, patch: (inputs: Record<string, any>) => void, extra: RecordedResource[] = []): Stack {
    const resources = stack.ev.resources.map((r) => {
        if (r.type !== type) return r;
        const inputs = JSON.parse(JSON.stringify(r.inputs));
        patch(inputs);
        return { ...r, inputs };
    });
    return { ...stack, ev: { ...stack.ev, resources: [...resources, ...extra] } };
}

describe("AWS checks", function () {
    this.timeout(60_000);
    const stacks = {} as Record<Env, Stack>;
    before(async () => {
        for (const env of envs) stacks[env] = stackOf(await evaluate(env), env);
    });

    it("reads every row of the AWS checks fixture, ids unique", () => {
        expect(rows.length).to.be.greaterThan(130);
        expect(new Set(rows.map((r) => r.id)).size).to.equal(rows.length);
        expect(rows.every((r) => r.id && r.tool && r.expected)).to.equal(true);
    });

    it("classifies exactly the rows of the fixture", () => {
        const ids = rows.map((r) => r.id);
        expect(ids.filter((id) => !(id in table)), "unclassified rows").to.deep.equal([]);
        expect(Object.keys(table).filter((id) => !ids.includes(id)), "classified ids not in the fixture").to.deep.equal([]);
    });

    for (const env of envs) {
        it(`${env}: every row is met, deliberately not met for its stated reason, or not applicable as asserted`, () => {
            const problems = rows.flatMap((row) => judge(row.id, stacks[env]).map((p) => `${row.id}: ${p}`));
            expect(problems).to.deep.equal([]);
        });
    }

    it("the interpreter fails broken resources, a false not-applicable claim and an unclassified row", () => {
        const prod = stacks.prod;
        expect(judge("CKV_AWS_79", broken(prod, T.launchTemplate, (i) => { i.metadataOptions.httpTokens = "optional"; }))).to.not.be.empty;
        expect(judge("CUSTOM-LT-EBS-ENC", broken(prod, T.launchTemplate, (i) => { i.blockDeviceMappings[0].ebs.encrypted = "false"; }))).to.not.be.empty;
        expect(judge("CKV_AWS_7", broken(prod, T.key, (i) => { i.enableKeyRotation = false; }))).to.not.be.empty;
        expect(judge("CKV_AWS_158", broken(prod, T.logGroup, (i) => { delete i.kmsKeyId; }))).to.not.be.empty;
        expect(judge("CKV_AWS_46", broken(prod, T.launchTemplate, (i) => { i.userData = Buffer.from("#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n").toString("base64"); }))).to.not.be.empty;
        const token = bootstrapTokenOf(prod.ev).secret;
        expect(judge("AVD-AWS-0129", broken(prod, T.launchTemplate, (i) => { i.userData = Buffer.from(`#cloud-config\nruncmd: [echo ${token}]\n`).toString("base64"); }))).to.not.be.empty;
        const sshFromAnywhere = { ...ofType(prod.ev, T.ingressRule)[0], name: "ssh", inputs: { securityGroupId: "sg", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0", description: "ssh" } };
        expect(judge("CKV_AWS_24", broken(prod, T.ingressRule, () => undefined, [sshFromAnywhere]))).to.not.be.empty;
        expect(judge("CUSTOM-SG-ETCD", broken(prod, T.ingressRule, () => undefined, [{ ...sshFromAnywhere, inputs: { ...sshFromAnywhere.inputs, fromPort: 2379, toPort: 2380, cidrIpv4: "10.0.0.0/8" } }]))).to.not.be.empty;
        const adminPolicy = { ...ofType(prod.ev, T.rolePolicy)[0], name: "admin", inputs: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) } };
        expect(judge("CKV_AWS_62", broken(prod, T.rolePolicy, () => undefined, [adminPolicy]))).to.not.be.empty;
        expect(judge("CKV_AWS_355", broken(prod, T.rolePolicy, () => undefined, [adminPolicy]))).to.not.be.empty;
        const instance = { ...ofType(prod.ev, T.launchTemplate)[0], type: T.instance, name: "bare" };
        expect(judge("AVD-AWS-0028", broken(prod, T.instance, () => undefined, [instance])), "not applicable no longer true").to.not.be.empty;
        expect(judge("CKV_AWS_382", broken(prod, T.egressRule, (i) => { i.cidrIpv4 = "0.0.0.0/0"; i.ipProtocol = "-1"; })), "a not-met reason that no longer matches").to.not.be.empty;
        expect(judge("CKV_AWS_79", prod, {})).to.deep.equal(["unclassified"]);
        expect(judge("CKV_AWS_79", prod)).to.deep.equal([]);
    });

    it("README \"AWS checks\" lists every row deliberately not met", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        const section = readme.split(/^## /m).find((s) => s.startsWith("AWS checks"));
        expect(section, "README section AWS checks").to.not.equal(undefined);
        const notMetIds = rows.map((r) => r.id).filter((id) => envs.some((env) => classify(id, env)?.verdict === "not met"));
        expect(notMetIds).to.not.be.empty;
        expect(notMetIds.filter((id) => !section!.includes(id)), "missing from README").to.deep.equal([]);
        const count = (env: Env, verdict: Classification["verdict"]) => rows.filter((r) => classify(r.id, env)?.verdict === verdict).length;
        const counts = `prod ${count("prod", "met")} met, ${count("prod", "not met")} not met, ${count("prod", "not applicable")} not applicable; dev ${count("dev", "met")}, ${count("dev", "not met")}, ${count("dev", "not applicable")}`;
        expect(section!.replace(/\s+/g, " "), "the counts README states").to.include(counts);
    });
});
