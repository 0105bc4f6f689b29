/**
 * A model of the AWS requests kaws's node programs and controllers make, as IAM authorizes them: one
 * request per action and resource, with the request context AWS evaluates. The helpers add the requests
 * a call implies (tag-on-create, KMS use by EC2 and S3 on the caller's behalf, multipart uploads), so
 * a request table lists calls the way the program makes them. Pure data: the IAM simulator tests
 * evaluate every table against the policies the program creates.
 */

export type ContextValue = string | readonly string[];

export interface AwsRequest {
    /** IAM action, e.g. ec2:AttachVolume. */
    readonly action: string;
    /** ARN the action is authorized on ("*" for actions with no resource type). */
    readonly resource: string;
    /** Request context AWS evaluates: aws:ResourceTag/…, aws:RequestTag/…, kms:ViaService, s3:prefix, … */
    readonly context: Readonly<Record<string, ContextValue>>;
    /** Who makes it and where: the program and call site (file@tag), or the rendered script. */
    readonly source: string;
    /**
     * Set when the request cannot be limited to this cluster, with the reason (an action without resource
     * types, or an account-wide registry); every other request must be denied on another cluster's
     * resources, another role's files or another key.
     */
    readonly unscoped?: string;
}

export interface AccountScope {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
}

/** A resource as AWS holds it: its ARN and every tag on it (provider default tags included). */
export interface ResourceRef {
    readonly arn: string;
    readonly tags: Readonly<Record<string, string>>;
}

/** What `aws s3 cp` uploads in one PutObject; larger files go as multipart uploads (AWS CLI multipart_threshold). */
export const awsCliMultipartThresholdBytes = 8 * 1024 * 1024;

export const wildcardOnly = (why: string) => ({ resource: "*", unscoped: why });

export function arnOf(s: AccountScope, service: string, resource: string): string {
    return `arn:${s.partition}:${service}:${s.region}:${s.accountId}:${resource}`;
}

export function resourceTagContext(tags: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

export function requestTagContext(tags: Readonly<Record<string, string>>): Record<string, ContextValue> {
    return {
        ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
        "aws:TagKeys": Object.keys(tags),
    };
}

/** An action on existing resources: AWS evaluates it once per resource, each with that resource's tags. */
export function onResources(action: string, resources: readonly ResourceRef[], source: string, context: Record<string, ContextValue> = {}): AwsRequest[] {
    return resources.map((r) => ({ action, resource: r.arn, context: { ...context, ...resourceTagContext(r.tags) }, source }));
}

/**
 * A create request that tags what it creates: the create action on every resource it names or creates,
 * and the tagging action (ec2:CreateTags / elasticloadbalancing:AddTags) on each created resource,
 * which AWS authorizes with the create action in ec2:CreateAction / elasticloadbalancing:CreateAction.
 */
export function createWithTags(args: {
    readonly service: "ec2" | "elasticloadbalancing";
    readonly action: string;
    /** ARNs of what the request creates (e.g. arn:…:volume/*). */
    readonly created: readonly string[];
    /** Existing resources the create names (e.g. the VPC of a security group, the snapshot of a volume). */
    readonly existing?: readonly ResourceRef[];
    readonly tags: Readonly<Record<string, string>>;
    readonly source: string;
    readonly context?: Record<string, ContextValue>;
}): AwsRequest[] {
    const [service, name] = args.action.split(":");
    const tagging = service === "ec2" ? "ec2:CreateTags" : "elasticloadbalancing:AddTags";
    const createActionKey = service === "ec2" ? "ec2:CreateAction" : "elasticloadbalancing:CreateAction";
    const requestTags = requestTagContext(args.tags);
    return [
        ...args.created.map((arn) => ({ action: args.action, resource: arn, context: { ...args.context, ...requestTags }, source: args.source })),
        ...onResources(args.action, args.existing ?? [], args.source, args.context),
        ...(Object.keys(args.tags).length === 0 ? [] : args.created.map((arn) => ({
            action: tagging, resource: arn, context: { ...requestTags, [createActionKey]: name }, source: `${args.source} (tags on create)`,
        }))),
    ];
}

/** What EC2 asks of KMS on the caller's behalf for a volume under a customer key ("Requirements for EBS encryption"). */
function ebsKeyUse(s: AccountScope, keyArn: string, actions: readonly string[], source: string): AwsRequest[] {
    const viaEc2 = { "kms:ViaService": `ec2.${s.region}.amazonaws.com`, "kms:CallerAccount": s.accountId };
    return actions.map((action) => ({
        action,
        resource: keyArn,
        context: action === "kms:CreateGrant" ? { ...viaEc2, "kms:GrantIsForAWSResource": "true" } : viaEc2,
        source: `${source} (EC2 uses the volume's KMS key)`,
    }));
}

/** AttachVolume: authorized on the instance and the volume; a volume under a customer key needs a KMS grant for EC2. */
export function attachVolume(s: AccountScope, instance: ResourceRef, volume: ResourceRef, keyArn: string | undefined, source: string): AwsRequest[] {
    return [
        ...onResources("ec2:AttachVolume", [instance, volume], source),
        ...(keyArn ? ebsKeyUse(s, keyArn, ["kms:CreateGrant"], source) : []),
    ];
}

/** CreateVolume with tags and a customer key: the volume, the tags on create, and EC2's use of the key. */
export function createEncryptedVolume(s: AccountScope, tags: Readonly<Record<string, string>>, keyArn: string, source: string): AwsRequest[] {
    return [
        ...createWithTags({ service: "ec2", action: "ec2:CreateVolume", created: [arnOf(s, "ec2", "volume/*")], tags, source, context: { "ec2:Encrypted": "true" } }),
        ...ebsKeyUse(s, keyArn, ["kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"], source),
    ];
}

const viaS3 = (s: AccountScope) => ({ "kms:ViaService": `s3.${s.region}.amazonaws.com`, "kms:CallerAccount": s.accountId });
const s3Object = (bucketArn: string, key: string) => `${bucketArn}/${key}`;

/** GetObject of an SSE-KMS object: S3 decrypts its data key with the caller's permission. */
export function s3GetEncrypted(s: AccountScope, bucketArn: string, key: string, keyArn: string, source: string): AwsRequest[] {
    return [
        { action: "s3:GetObject", resource: s3Object(bucketArn, key), context: {}, source },
        { action: "kms:Decrypt", resource: keyArn, context: viaS3(s), source: `${source} (S3 decrypts the object's data key)` },
    ];
}

export function s3List(bucketArn: string, prefix: string, source: string): AwsRequest {
    return { action: "s3:ListBucket", resource: bucketArn, context: { "s3:prefix": prefix }, source };
}

/**
 * `aws s3 cp --sse aws:kms --sse-kms-key-id KEY` of a file: one PutObject up to the multipart threshold;
 * above it CreateMultipartUpload (the only request with the SSE headers), UploadPart and
 * CompleteMultipartUpload, all authorized as s3:PutObject. A multipart upload under SSE-KMS needs
 * kms:GenerateDataKey and kms:Decrypt (S3 user guide, "Uploading and copying objects using multipart upload").
 */
export function s3PutEncrypted(s: AccountScope, bucketArn: string, key: string, keyArn: string, sizeBytes: number, source: string): AwsRequest[] {
    const sse = { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn };
    const put = (context: Record<string, ContextValue>, step: string): AwsRequest => ({ action: "s3:PutObject", resource: s3Object(bucketArn, key), context, source: `${source} (${step})` });
    const generate: AwsRequest = { action: "kms:GenerateDataKey", resource: keyArn, context: viaS3(s), source: `${source} (S3 generates the object's data key)` };
    if (sizeBytes <= awsCliMultipartThresholdBytes) return [put(sse, "PutObject"), generate];
    return [
        put(sse, "CreateMultipartUpload"),
        generate,
        put({}, "UploadPart: no SSE headers"),
        put({}, "CompleteMultipartUpload"),
        { action: "kms:Decrypt", resource: keyArn, context: viaS3(s), source: `${source} (multipart upload under SSE-KMS)` },
    ];
}

/** The SSM agent's core requests (Session Manager and host management), made as the instance role. */
export function ssmAgentRequests(instance: ResourceRef): AwsRequest[] {
    const source = "amazon-ssm-agent (preinstalled on AL2023): registration, associations and Session Manager channels";
    const sourceInstance = { "ec2:SourceInstanceARN": instance.arn };
    const noResource = (action: string): AwsRequest => ({ action, context: sourceInstance, source, ...wildcardOnly("Systems Manager messaging actions have no resource type") });
    return [
        { action: "ssm:UpdateInstanceInformation", resource: instance.arn, context: { ...sourceInstance }, source, unscoped: "granted by AmazonSSMManagedInstanceCore on every instance" },
        { action: "ssm:ListInstanceAssociations", resource: instance.arn, context: resourceTagContext(instance.tags), source, unscoped: "granted by AmazonSSMManagedInstanceCore on every instance" },
        noResource("ssmmessages:CreateControlChannel"),
        noResource("ssmmessages:OpenControlChannel"),
        noResource("ssmmessages:CreateDataChannel"),
        noResource("ssmmessages:OpenDataChannel"),
        noResource("ec2messages:GetEndpoint"),
        noResource("ec2messages:GetMessages"),
        noResource("ec2messages:AcknowledgeMessage"),
        noResource("ec2messages:SendReply"),
    ];
}

/** kubelet's ECR pulls: the credential provider gets a registry token, kubelet pulls with it as the role. */
export function ecrPullRequests(s: AccountScope, repository: string): AwsRequest[] {
    const provider = "ecr-credential-provider (cloud-provider-aws cmd/ecr-credential-provider): GetAuthorizationToken";
    const pull = "kubelet image pull from a private ECR repository with the provider's token";
    const repo = arnOf(s, "ecr", `repository/${repository}`);
    const account = "any repository of the account's registry in this region: kaws does not know which images workloads use";
    return [
        { action: "ecr:GetAuthorizationToken", context: {}, source: provider, ...wildcardOnly("ECR authorization tokens are account-wide; the action has no resource type") },
        ...["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"].map((action) => ({ action, resource: repo, context: {}, source: pull, unscoped: account })),
    ];
}
