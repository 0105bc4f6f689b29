/**
 * What the offline engine answers in place of AWS: clearly marked placeholder identifiers and the
 * few computed attributes the program reads. Nothing here stands in for kaws logic.
 */
export const placeholderAccount = "000000000000";

export function placeholderId(name: string): string {
    return `placeholder-${name}`;
}

export function placeholderArn(region: string, type: string, name: string): string {
    const service = type.split(":")[1]?.split("/")[0] ?? "unknown";
    return `arn:aws:${service}:${region}:${placeholderAccount}:placeholder/${name}`;
}

/** Attributes AWS would compute for a resource of `type`, beyond its inputs. */
export function computedAttributes(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
    if (!type.startsWith("aws:")) return {};
    const computed: Record<string, unknown> = { arn: placeholderArn(region, type, name) };
    // AWS (through the provider's auto-naming) names what the program leaves unnamed.
    if (inputs.name === undefined && inputs.namePrefix === undefined) computed.name = placeholderId(name);
    switch (type) {
        case "aws:lb/loadBalancer:LoadBalancer":
            computed.dnsName = `${inputs.name ?? name}-placeholder.elb.${region}.amazonaws.com`;
            computed.zoneId = "ZPLACEHOLDER";
            break;
        case "aws:s3/bucketV2:BucketV2":
        case "aws:s3/bucket:Bucket":
            computed.bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? name}placeholder`;
            break;
        case "aws:kms/key:Key":
            computed.keyId = placeholderId(name);
            break;
        case "aws:sqs/queue:Queue":
            computed.url = `https://sqs.${region}.amazonaws.com/${placeholderAccount}/${inputs.name ?? placeholderId(name)}`;
            break;
        case "aws:ec2/launchTemplate:LaunchTemplate":
            computed.latestVersion = 1;
            computed.defaultVersion = 1;
            break;
    }
    return computed;
}

/** Answers for the provider functions (invokes) the program calls; any other token is an error. */
export function invokeResult(token: string, region: string): Record<string, unknown> {
    switch (token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones": {
            const letters = ["a", "b", "c", "d", "e", "f"];
            return {
                names: letters.map((l) => `${region}${l}`),
                zoneIds: letters.map((_, i) => `placeholder-az${i + 1}`),
                id: region,
            };
        }
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: placeholderAccount, arn: `arn:aws:iam::${placeholderAccount}:user/placeholder`, userId: "placeholder", id: placeholderAccount };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
        case "aws:ec2/getAmi:getAmi":
            return { id: "ami-00000000placeholder", imageId: "ami-00000000placeholder", architecture: "placeholder", name: "placeholder" };
        case "aws:ssm/getParameter:getParameter":
            return { value: "ami-00000000placeholder", insecureValue: "ami-00000000placeholder", type: "String", version: 1 };
        default:
            throw new Error(`offline engine: no placeholder answer for invoke ${token}; add one to automation/placeholders.ts`);
    }
}
