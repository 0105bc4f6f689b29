// Self-contained: this folder is what Pulumi Cloud receives when the pack is published (automation/deployments),
// so it imports nothing from the rest of the repository.

/**
 * A resource as a policy sees it: `props` are its inputs with secrets unwrapped (as the policy host gives them),
 * `propertyDependencies` maps an input to the URNs of the resources its value comes from.
 */
export interface PolicyInput {
    readonly type: string;
    readonly urn: string;
    readonly name: string;
    readonly props: Record<string, any>;
    readonly propertyDependencies?: Record<string, readonly string[]>;
}

export interface Finding {
    readonly policy: string;
    readonly urn: string;
    readonly message: string;
}

interface RuleInfo {
    readonly name: string;
    readonly description: string;
}

/** Checks one resource at a time; returns its problems. */
export interface ResourceRule extends RuleInfo {
    readonly kind: "resource";
    readonly check: (resource: PolicyInput) => string[];
}

/** Checks the whole stack; returns each problem with the resource it is about. */
export interface StackRule extends RuleInfo {
    readonly kind: "stack";
    readonly check: (resources: readonly PolicyInput[]) => { urn: string; message: string }[];
}

export type Rule = ResourceRule | StackRule;

export const T = {
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    volume: "aws:ebs/volume:Volume",
    buckets: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    bucketEncryption: [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ],
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    iamPolicy: "aws:iam/policy:Policy",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    role: "aws:iam/role:Role",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
} as const;

const isTrue = (value: unknown) => value === true || value === "true";
const label = (r: PolicyInput) => `${r.type} ${r.name}`;
const list = (value: unknown): any[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

const imdsv2: ResourceRule = {
    kind: "resource",
    name: "kaws-imdsv2-required",
    description: "Launch templates and instances require IMDSv2 (metadataOptions.httpTokens \"required\").",
    check: (r) => (r.type === T.launchTemplate || r.type === T.instance) && r.props.metadataOptions?.httpTokens !== "required"
        ? [`${label(r)}: metadataOptions.httpTokens is ${JSON.stringify(r.props.metadataOptions?.httpTokens)}, not "required"`]
        : [],
};

const encryptedVolumes: ResourceRule = {
    kind: "resource",
    name: "kaws-encrypted-volumes",
    description: "EBS volumes and launch-template block devices are encrypted with a KMS key (encrypted and kmsKeyId set).",
    check: (r) => {
        const props = r.props;
        const unencrypted = (ebs: any) => !isTrue(ebs?.encrypted) || typeof ebs?.kmsKeyId !== "string" || ebs.kmsKeyId === "";
        if (r.type === T.volume) return unencrypted(props) ? [`${label(r)}: not encrypted with a KMS key (encrypted ${props.encrypted}, kmsKeyId ${props.kmsKeyId})`] : [];
        if (r.type !== T.launchTemplate) return [];
        return list(props.blockDeviceMappings).filter((m) => m.ebs && unencrypted(m.ebs))
            .map((m) => `${label(r)}: block device ${m.deviceName} is not encrypted with a KMS key`);
    },
};

const encryptedBuckets: StackRule = {
    kind: "stack",
    name: "kaws-encrypted-buckets",
    description: "Every S3 bucket has a server-side encryption configuration using aws:kms with a KMS key.",
    check: (resources) => {
        const configs = resources.filter((r) => (T.bucketEncryption as readonly string[]).includes(r.type));
        const findings: { urn: string; message: string }[] = [];
        for (const config of configs) {
            const rules = list(config.props.rules);
            const kms = rules.length > 0 && rules.every((rule) => rule.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms"
                && typeof rule.applyServerSideEncryptionByDefault?.kmsMasterKeyId === "string" && rule.applyServerSideEncryptionByDefault.kmsMasterKeyId !== "");
            if (!kms) findings.push({ urn: config.urn, message: `${label(config)}: encryption is not aws:kms with a kmsMasterKeyId` });
        }
        for (const bucket of resources.filter((r) => (T.buckets as readonly string[]).includes(r.type))) {
            if (!configs.some((c) => c.propertyDependencies?.bucket?.includes(bucket.urn))) {
                findings.push({ urn: bucket.urn, message: `${label(bucket)}: no server-side encryption configuration refers to it` });
            }
        }
        return findings;
    },
};

const noPublicIp: ResourceRule = {
    kind: "resource",
    name: "kaws-no-public-ip",
    description: "Launch templates and instances do not associate a public IP address.",
    check: (r) => {
        const props = r.props;
        if (r.type === T.instance) return isTrue(props.associatePublicIpAddress) ? [`${label(r)}: associatePublicIpAddress is true`] : [];
        if (r.type !== T.launchTemplate) return [];
        return list(props.networkInterfaces).filter((ni) => isTrue(ni.associatePublicIpAddress))
            .map((ni) => `${label(r)}: network interface ${ni.deviceIndex ?? 0} associates a public IP address`);
    },
};

const anywhere = (cidrs: unknown) => list(cidrs).filter((c) => c === "0.0.0.0/0" || c === "::/0");

// The API load balancer's group is the one exemption: an internet-facing API admits the configured CIDRs. It is
// recognised by the fact in its URN that the kaws:controlplane:ApiLoadBalancer component is its parent; only its
// inline ingress is exempt (standalone rules are always checked; the program attaches none to it).
const apiLoadBalancerComponent = "kaws:controlplane:ApiLoadBalancer";
/** The type of the resource's parent, from its URN (urn:pulumi:stack::project::parentType$type::name). */
const parentType = (urn: string) => (urn.split("::")[2] ?? "").split("$").at(-2);

const noIngressFromAnywhere: ResourceRule = {
    kind: "resource",
    name: "kaws-no-ingress-from-anywhere",
    description: "No security group of the nodes admits ingress from 0.0.0.0/0 or ::/0 (the API load balancer's group is exempt).",
    check: (r) => {
        const props = r.props;
        const found = (where: string, cidrs: string[]) => cidrs.map((c) => `${label(r)}: ${where} admits ingress from ${c}`);
        switch (r.type) {
            case T.ingressRule:
                return found("rule", anywhere([props.cidrIpv4, props.cidrIpv6]));
            case T.securityGroupRule:
                return props.type === "ingress" ? found("rule", anywhere([...list(props.cidrBlocks), ...list(props.ipv6CidrBlocks)])) : [];
            case T.securityGroup:
            case T.defaultSecurityGroup:
                if (parentType(r.urn) === apiLoadBalancerComponent) return [];
                return list(props.ingress).flatMap((rule, i) => found(`inline ingress ${i}`, anywhere([...list(rule.cidrBlocks), ...list(rule.ipv6CidrBlocks)])));
            default:
                return [];
        }
    },
};

/** A bare "*" or a whole-service "<svc>:*"; a partial wildcard such as "ec2:Describe*" is allowed. */
const wildcardAction = (action: unknown) => typeof action === "string" && (action === "*" || /^[A-Za-z0-9-]+:\*$/.test(action));

function wildcardStatements(document: unknown): string[] {
    const parsed = typeof document === "string" ? JSON.parse(document) : document;
    return list(parsed?.Statement).filter((s) => s.Effect === "Allow")
        .flatMap((s) => list(s.Action).filter(wildcardAction).map((a) => `statement ${s.Sid ?? "(no Sid)"} allows ${a}`));
}

const noWildcardActions: ResourceRule = {
    kind: "resource",
    name: "kaws-no-wildcard-iam-actions",
    description: "No IAM policy, role policy or inline role policy allows \"*\" or \"<service>:*\" (trust policies are exempt).",
    check: (r) => {
        const props = r.props;
        const documents = r.type === T.iamPolicy || r.type === T.rolePolicy ? [props.policy]
            : r.type === T.role ? list(props.inlinePolicies).map((p) => p.policy) : [];
        return documents.filter((d) => d !== undefined).flatMap(wildcardStatements).map((s) => `${label(r)}: ${s}`);
    },
};

const privateKey = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Paths of the string values holding a PEM private key. */
export function privateKeyPaths(value: unknown, path = ""): string[] {
    if (typeof value === "string") return privateKey.test(value) ? [path] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => privateKeyPaths(v, `${path}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => privateKeyPaths(v, path ? `${path}.${k}` : k));
    return [];
}

/** Where key material may go: the tls provider's key inputs (secret by its schema) and node files stored SSE-KMS. */
const keySinks: Record<string, (r: PolicyInput) => readonly string[]> = {
    "tls:index/certRequest:CertRequest": () => ["privateKeyPem"],
    "tls:index/selfSignedCert:SelfSignedCert": () => ["privateKeyPem"],
    "tls:index/locallySignedCert:LocallySignedCert": () => ["caPrivateKeyPem"],
    [T.bucketObject]: (r) => r.props.serverSideEncryption === "aws:kms" && typeof r.props.kmsKeyId === "string" && r.props.kmsKeyId !== "" ? ["content"] : [],
};

// The policy host unwraps secrets before a policy sees props, so it cannot tell a secret input from a plain one;
// it can tell where a key goes. That the sinks' values are secrets is proven over the offline engine's resources,
// which keep the secret marks (test/policy/rules.test.ts).
const privateKeysInSinks: ResourceRule = {
    kind: "resource",
    name: "kaws-private-keys-in-sinks",
    description: "A PEM private key is an input only of the tls provider's key inputs or of an SSE-KMS encrypted S3 object's content.",
    check: (r) => {
        const allowed = keySinks[r.type]?.(r) ?? [];
        return privateKeyPaths(r.props).filter((p) => !allowed.includes(p))
            .map((p) => `${label(r)}: input ${p} holds a PEM private key (only tls key inputs and SSE-KMS S3 object content may)`);
    },
};

/** The rules the policy pack enforces. */
export const rules: readonly Rule[] = [imdsv2, encryptedVolumes, encryptedBuckets, noPublicIp, noIngressFromAnywhere, noWildcardActions, privateKeysInSinks];

/** Every finding of the rules over a stack's resources. */
export function evaluateRules(resources: readonly PolicyInput[], over: readonly Rule[] = rules): Finding[] {
    return over.flatMap((rule) => rule.kind === "resource"
        ? resources.flatMap((r) => rule.check(r).map((message) => ({ policy: rule.name, urn: r.urn, message })))
        : rule.check(resources).map((f) => ({ policy: rule.name, ...f })));
}
