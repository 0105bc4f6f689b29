import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { AllocateAddressCommand, CreateSecurityGroupCommand, CreateVolumeCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { awsSweeper, checkPulumiCli, preflight, preflightEnvironment, PreflightOptions, PreflightResult, taggedLeftovers } from "../../automation/aws";
import { PreflightError, runPreflight } from "../../automation/driver";
import { quietly } from "../../automation/awsErrors";
import { exitCodeFor, exitCodes } from "../../automation/cli";
import { root } from "../harness";
import { Moto, MotoStub, fakeKeys, freePort, json, startMoto, xml } from "../moto";

// Everything runs against one moto_server on loopback for the whole file (state reset between tests through
// /moto-api/reset). In front of it sits a tiny HTTP stub, also on loopback, that forwards to moto except for what
// moto cannot answer or what a test needs to go wrong:
//   - Service Quotas for EC2 (L-1216C47A On-Demand standard vCPUs, L-34B43A08 Spot standard vCPUs): moto 5.2's
//     servicequotas backend only knows the "vpc" service (GetServiceQuota for ec2 raises NoSuchResource), so the
//     stub serves those two quotas; the VPC quota (L-F678F1CE) comes from moto itself;
//   - throttling (the first N requests answered 400 Throttling/RequestLimitExceeded/TooManyRequestsException);
//   - access denied (403 UnauthorizedOperation for one EC2 action), which moto does not enforce by default.

const region = "eu-west-1";
/** Set by the warning tests below; the moto tests start them early so they run alongside. */
let startWarningChecks: (() => unknown) | undefined;

/** The stub in front of moto; tests set its knobs, `reset()` puts them back. */
class Stub extends MotoStub {
    quotas: Record<string, number> = {};
    throttle = 0;
    throttled = 0;
    garbage = false;
    deny?: string;

    reset(): void {
        this.quotas = { "L-1216C47A": 256, "L-34B43A08": 256 };
        this.throttle = 0;
        this.throttled = 0;
        this.garbage = false;
        this.deny = undefined;
    }

    protected answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): boolean {
        const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? "";
        const target = String(req.headers["x-amz-target"] ?? "");
        const text = body.toString("utf8");
        if (this.garbage) {
            res.writeHead(200, { "content-type": "text/plain" });
            res.end("this is not an AWS answer");
            return true;
        }
        if (this.throttled < this.throttle) {
            this.throttled++;
            if (target) return json(res, 400, { __type: "TooManyRequestsException", message: "Rate exceeded" });
            if (service === "ec2") return xml(res, 503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>stub</RequestID></Response>");
            return xml(res, 400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>stub</RequestId></ErrorResponse>");
        }
        if (this.deny && service === "ec2" && text.includes(`Action=${this.deny}`)) {
            return xml(res, 403, `<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/kaws-tester is not authorized to perform: ec2:${this.deny} because no identity-based policy allows the ec2:${this.deny} action. Encoded authorization failure message: c3R1Yg</Message></Error></Errors><RequestID>stub</RequestID></Response>`);
        }
        if (target.startsWith("ServiceQuotasV20190624.")) {
            const input = JSON.parse(text || "{}");
            if (input.ServiceCode === "ec2" && this.quotas[input.QuotaCode] !== undefined) {
                return json(res, 200, { Quota: { ServiceCode: "ec2", QuotaCode: input.QuotaCode, QuotaName: "stub", Value: this.quotas[input.QuotaCode], Unit: "None" } });
            }
        }
        return false;
    }
}

/** Each problem: one line, no stack trace, no secret; and nothing secret anywhere in the result. */
function expectClean(result: PreflightResult | string[]): void {
    const problems = Array.isArray(result) ? result : [...result.problems, ...result.notes];
    for (const problem of problems) {
        expect(problem, problem).not.to.match(/\n/);
        expect(problem, problem).not.to.match(/\s+at .+:\d+:\d+/);
        expect(problem.length, problem).to.be.lessThan(600);
    }
    const text = JSON.stringify(result);
    for (const secret of Object.values(fakeKeys)) expect(text, "a secret was printed").not.to.contain(secret);
}

const baseStack = {
    "aws:region": region,
    "kaws:clusterName": "kaws-test",
    "kaws:environment": "dev",
    "kaws:azCount": 2,
    "kaws:natGateways": "single",
    "kaws:flowLogs": false,
    "kaws:etcdMembers": 1,
    "kaws:etcdInstanceType": "t3.medium",
    "kaws:controlPlaneCount": 1,
    "kaws:controlPlaneInstanceType": "t3.medium",
    "kaws:workerPools": [{ name: "general", instanceTypes: ["t3.large"], minSize: 1, desiredSize: 1, maxSize: 3, onDemandBaseCapacity: 0, onDemandPercentageAboveBase: 0 }],
};

describe("aws (preflight and post-destroy sweep, against moto_server)", function () {
    this.timeout(20000);
    let moto: Moto | undefined;
    let motoUrl: string;
    let stub: Stub;
    let work: string;
    let fakePulumi: string;

    /** A project folder with the repository's Pulumi.yaml and a Pulumi.test.yaml of these settings. */
    function project(overrides: Record<string, unknown> = {}): string {
        const dir = fs.mkdtempSync(path.join(work, "project-"));
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const config = Object.fromEntries(Object.entries({ ...baseStack, ...overrides }).filter(([, v]) => v !== undefined));
        fs.writeFileSync(path.join(dir, "Pulumi.test.yaml"), YAML.stringify({ config }));
        return dir;
    }
    const options = (extra: Partial<PreflightOptions> = {}): PreflightOptions => ({ pulumiCommand: fakePulumi, timeoutMs: 5000, ...extra });
    const ec2 = () => quietly(() => new EC2Client({ region, endpoint: motoUrl }));

    before(async function () {
        startWarningChecks?.();
        moto = await startMoto(this);
        motoUrl = moto.url;
        work = moto.work;
        fakePulumi = path.join(work, "pulumi");
        fs.writeFileSync(fakePulumi, "#!/bin/sh\ncase \"$1\" in\n  version) echo v3.270.0 ;;\n  whoami) echo kaws-tester ;;\n  *) echo 'error: no stack named test found' >&2; exit 255 ;;\nesac\n", { mode: 0o755 });
        stub = new Stub(motoUrl);
        await stub.start();
        process.env.AWS_ENDPOINT_URL = stub.url;
    });

    const baseEnv = () => ({ ...process.env });
    let testEnv: NodeJS.ProcessEnv;
    beforeEach(async () => {
        testEnv = baseEnv();
        stub.reset();
        await moto!.reset();
    });
    afterEach(() => {
        process.env = testEnv;
    });

    after(() => {
        stub?.stop();
        moto?.stop();
    });

    it("lists exactly the resources tagged for this cluster", async () => {
        const client = ec2();
        const tags = (cluster: string) => [{ Key: `kubernetes.io/cluster/${cluster}`, Value: "owned" }];
        await client.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, TagSpecifications: [{ ResourceType: "volume", Tags: tags("kaws-test") }] }));
        await client.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, TagSpecifications: [{ ResourceType: "volume", Tags: tags("someone-else") }] }));
        const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
        await client.send(new CreateSecurityGroupCommand({ GroupName: "k8s-elb-leftover", Description: "left by the CCM", VpcId: vpc.Vpc!.VpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: tags("kaws-test") }] }));
        client.destroy();
        const leftovers = await taggedLeftovers("kaws-test", region);
        expect(leftovers).to.have.length(2);
        expect(leftovers.some((arn) => /:volume\/vol-/.test(arn))).to.equal(true);
        expect(leftovers.some((arn) => /:security-group\/sg-/.test(arn))).to.equal(true);
        expect(await awsSweeper().leftovers("nothing-here", region, new AbortController().signal)).to.deep.equal([]);
    });

    it("a clean account passes, with the account, the region and the zones the program will use", async () => {
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.deep.equal([]);
        expect(result.notes).to.deep.equal([]);
        expect(result.account).to.match(/^\d{12}$/);
        expect(result).to.include({ region, pulumiVersion: "3.270.0", pulumiUser: "kaws-tester" });
        expect(result.zones).to.deep.equal(["eu-west-1a", "eu-west-1b"]);
        expectClean(result);
    });

    it("the configuration: exactly render's problem list", async () => {
        const result = await preflightEnvironment(project({ "kaws:clusterName": "Not_A_Label", "kaws:etcdInstanceType": "kz9.large" }), "test", undefined, options());
        expect(result.problems.some((p) => /^kaws:clusterName: "?Not_A_Label"? is not allowed/.test(p)), result.problems.join("\n")).to.equal(true);
        expect(result.problems.some((p) => /kaws:etcdInstanceType.*kz9\.large/.test(p)), result.problems.join("\n")).to.equal(true);
        expectClean(result);
    });

    it("the region: from the stack file, known; AWS_REGION differing is a note (the stack file wins)", async () => {
        process.env.AWS_REGION = "us-east-1";
        const ok = await preflightEnvironment(project(), "test", undefined, options());
        expect(ok.problems).to.deep.equal([]);
        expect(ok.notes).to.deep.equal(["AWS_REGION is us-east-1, but Pulumi.test.yaml says eu-west-1: the stack file wins, kaws uses eu-west-1"]);
        const unknown = await preflightEnvironment(project({ "aws:region": "eu-mars-1" }), "test", undefined, options());
        expect(unknown.problems).to.have.length(1);
        expect(unknown.problems[0]).to.match(/aws:region.*eu-mars-1.*not an AWS region/);
        expect(unknown.account).to.equal("unknown");
        expectClean(unknown);
    });

    it("too few zones for kaws:azCount", async () => {
        // moto gives eu-west-1 a fixed three zones; 4 is a valid azCount (1-6), so this is the only problem.
        const result = await preflightEnvironment(project({ "kaws:azCount": 4 }), "test", undefined, options());
        expect(result.problems).to.deep.equal(["aws:region eu-west-1 has 3 available zone(s) (eu-west-1a, eu-west-1b, eu-west-1c); kaws:azCount asks for 4; lower kaws:azCount or pick another region"]);
        expectClean(result);
    });

    it("an instance type not offered in a zone used", async () => {
        // c8a.large is a real type that moto's eu-west-1 offerings list for only some zones.
        const result = await preflightEnvironment(project({ "kaws:azCount": 3, "kaws:workerPools": [{ ...baseStack["kaws:workerPools"][0], instanceTypes: ["t3.large", "c8a.large"] }] }), "test", undefined, options());
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(/^instance type c8a\.large \(kaws:workerPools\[general\]\) is not offered in eu-west-1[abc]/);
        expect(result.problems[0]).to.contain("aws ec2 describe-instance-type-offerings");
        expectClean(result);
    });

    it("a VPC already tagged for a cluster of that name", async () => {
        const client = ec2();
        const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16", TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "kaws:cluster", Value: "kaws-test" }] }] }));
        await client.send(new CreateVpcCommand({ CidrBlock: "10.8.0.0/16", TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "kaws:cluster", Value: "another" }] }] }));
        client.destroy();
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(new RegExp(`^a VPC tagged kaws:cluster=kaws-test already exists in eu-west-1 \\(${vpc.Vpc!.VpcId}\\)`));
        expect(result.problems[0]).to.contain("aws ec2 describe-vpcs --region eu-west-1 --filters Name=tag:kaws:cluster,Values=kaws-test");
        // The stack's own VPC (its vpcId output) is not another cluster.
        const own = await preflightEnvironment(project(), "test", undefined, options({ ownVpcIds: [vpc.Vpc!.VpcId!] }));
        expect(own.problems).to.deep.equal([]);
        expectClean(result);
    });

    it("Elastic IP and VPC quotas exceeded", async () => {
        // moto reports vpc-max-elastic-ips 5 and (Service Quotas, vpc) L-F678F1CE 5 with its one default VPC.
        const client = ec2();
        for (let i = 0; i < 5; i++) await client.send(new AllocateAddressCommand({ Domain: "vpc" }));
        for (let i = 0; i < 4; i++) await client.send(new CreateVpcCommand({ CidrBlock: `10.${10 + i}.0.0/16` }));
        client.destroy();
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.have.length(2);
        expect(result.problems[0]).to.match(/^Elastic IP quota too low in eu-west-1: the stack needs 1 \(one per NAT gateway, kaws:natGateways single\), 5 of the account's 5 are allocated/);
        expect(result.problems[1]).to.match(/^VPC quota reached in eu-west-1: 5 of 5 VPCs \(L-F678F1CE/);
        expectClean(result);
    });

    it("vCPU quotas too low (served by the stub: moto has no EC2 quotas)", async () => {
        stub.quotas = { "L-1216C47A": 4, "L-34B43A08": 2 };
        const result = await preflightEnvironment(project(), "test", undefined, options());
        // On-Demand: etcd 1 x 2 + control plane (1 + 1) x 2 = 6; Spot: the pool's 3 x t3.large (2 vCPUs) = 6.
        expect(result.problems).to.have.length(2);
        expect(result.problems[0]).to.match(/^On-Demand vCPU quota too low in eu-west-1: the stack can grow to 6 On-Demand standard vCPUs .* L-1216C47A .* is 4; request an increase/);
        expect(result.problems[1]).to.match(/^Spot vCPU quota too low in eu-west-1: the stack can grow to 6 Spot standard vCPUs .* L-34B43A08 .* is 2;/);
        expectClean(result);
    });

    it("missing credentials: names the profile tried and what to run", async () => {
        for (const key of Object.keys(fakeKeys)) delete process.env[key];
        process.env.AWS_PROFILE = "nonexistent";
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.have.length(1);
        const [line] = result.problems;
        expect(line).to.match(/^no AWS credentials could be loaded for STS GetCallerIdentity/);
        expect(line).to.contain('profile "nonexistent" (AWS_PROFILE): not found in');
        expect(line).to.contain("AWS_ACCESS_KEY_ID is not set");
        expect(line).to.contain("instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
        expect(line).to.contain("run `aws configure --profile nonexistent`");
        expect(result.account).to.equal("unknown");
        expectClean(result);
    });

    it("an expired SSO session: says to log in again", async () => {
        for (const key of Object.keys(fakeKeys)) delete process.env[key];
        const config = path.join(work, "sso-config");
        fs.writeFileSync(config, "[profile dev-sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = eu-west-1\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n");
        Object.assign(process.env, { AWS_PROFILE: "dev-sso", AWS_CONFIG_FILE: config, HOME: work });
        const result = await preflight(region, 1, undefined, { timeoutMs: 5000 });
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(/profile "dev-sso"/);
        expect(result.problems[0]).to.contain("run `aws sso login --profile dev-sso`");
        expectClean(result);
    });

    it("an unreachable endpoint: one line with the endpoint and the time it took", async () => {
        const closed = `http://127.0.0.1:${await freePort()}`;
        process.env.AWS_ENDPOINT_URL = closed;
        const started = Date.now();
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(Date.now() - started).to.be.lessThan(5000);
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(new RegExp(`^cannot reach ${closed} for STS GetCallerIdentity: nothing is listening there \\(endpoint from AWS_ENDPOINT_URL\\); gave up after \\d attempt\\(s\\) in \\d+\\.\\d s; fix or unset AWS_ENDPOINT_URL$`));
        expectClean(result);
    });

    it("an endpoint answering garbage", async () => {
        stub.garbage = true;
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(new RegExp(`^the endpoint did not answer as AWS does: ${stub.url} \\(from AWS_ENDPOINT_URL\\)`));
        expectClean(result);
    });

    it("an endpoint that never answers: bounded by timeoutMs", async () => {
        const sockets: net.Socket[] = [];
        const silent = net.createServer((socket) => { sockets.push(socket); }).listen(0, "127.0.0.1");
        await new Promise((r) => silent.once("listening", r));
        const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
        const started = Date.now();
        let error: unknown;
        try {
            await taggedLeftovers("kaws-test", region, undefined, { endpoint, timeoutMs: 500 });
        } catch (err) { error = err; }
        sockets.forEach((socket) => socket.destroy());
        silent.close();
        expect(Date.now() - started).to.be.lessThan(3000);
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(new RegExp(`^${endpoint} did not answer Resource Groups Tagging GetResources within 0\\.\\d s`));
        expectClean([(error as Error).message]);
    });

    it("throttling: retried with backoff (a few times: passes and says nothing; every time: one line, gave up after N attempts)", async () => {
        // Two stubs in front of the same moto, run at once: the SDK's adaptive mode waits after a throttle.
        const always = new Stub(motoUrl);
        await always.start();
        always.throttle = Number.POSITIVE_INFINITY;
        stub.throttle = 2;
        const [few, every] = await Promise.all([
            preflightEnvironment(project(), "test", undefined, options()),
            preflightEnvironment(project(), "test", undefined, options({ endpoint: always.url, maxAttempts: 2 })),
        ]);
        always.stop();
        expect(stub.throttled).to.equal(2);
        expect(few.problems).to.deep.equal([]);
        expect(few.notes).to.deep.equal([]);
        expect(every.problems).to.have.length(1);
        expect(every.problems[0]).to.match(new RegExp(`^AWS kept throttling STS GetCallerIdentity at ${always.url} \\(Throttling\\); gave up after 2 attempt\\(s\\), \\d+\\.\\d s of backoff in \\d+\\.\\d s; wait a minute`));
        expectClean(every);
    });

    it("an invalid AWS_ENDPOINT_URL", async () => {
        process.env.AWS_ENDPOINT_URL = "not a url";
        const result = await preflight(region, 1, undefined, { timeoutMs: 5000 });
        expect(result.problems).to.deep.equal(["cannot reach not a url for STS GetCallerIdentity: it is not a valid URL (endpoint from AWS_ENDPOINT_URL); gave up after 1 attempt(s) in 0.0 s; fix or unset AWS_ENDPOINT_URL"]);
    });

    it("access denied: names the action and the principal", async () => {
        stub.deny = "DescribeAvailabilityZones";
        const result = await preflightEnvironment(project(), "test", undefined, options());
        expect(result.problems).to.deep.equal(["access denied (UnauthorizedOperation): arn:aws:iam::123456789012:user/kaws-tester may not call ec2:DescribeAvailabilityZones in eu-west-1; grant it ec2:DescribeAvailabilityZones (kaws reads with ec2:Describe*, elasticloadbalancing:Describe*, servicequotas:GetServiceQuota, sts:GetCallerIdentity, tag:GetResources)"]);
        expectClean(result);
    });

    it("preflight prints the facts and one line per problem; up's error exits 1 (failed)", async () => {
        stub.quotas = { "L-1216C47A": 4, "L-34B43A08": 256 };
        let stdout = "";
        let stderr = "";
        const dir = project();
        let error: unknown;
        try {
            await runPreflight("test", (env, signal) => preflightEnvironment(dir, env, signal, options()), { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, signal: new AbortController().signal });
        } catch (err) { error = err; }
        expect(error).to.be.instanceOf(PreflightError);
        expect(exitCodeFor(error)).to.equal(exitCodes.failed);
        expect(stdout).to.match(/^preflight: AWS account \d{12}, region eu-west-1, zones eu-west-1a, eu-west-1b\n$/);
        expect(stderr.split("\n").filter(Boolean)).to.have.length(1);
        expect(stderr).to.match(/^preflight: On-Demand vCPU quota too low/);
    });
});

describe("aws: the Pulumi CLI checks", function () {
    this.timeout(10000);
    let work: string;
    before(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-pulumi-test-")); });
    after(() => fs.rmSync(work, { recursive: true, force: true }));
    const script = (name: string, body: string) => {
        const file = path.join(work, name);
        fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        return file;
    };

    it("missing: says to install it, and skips the backend check", () => {
        const result = checkPulumiCli({ pulumiCommand: path.join(work, "nowhere", "pulumi"), sdkVersion: "3.270.0" });
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(/^the Pulumi CLI is not installed \(no `.*pulumi` on PATH\); install Pulumi CLI 3\.270\.0 or newer/);
    });

    it("there but not runnable (a directory, no execute bit) is not reported as missing", () => {
        const dir = path.join(work, "pulumi-dir");
        fs.mkdirSync(dir);
        const result = checkPulumiCli({ pulumiCommand: dir, sdkVersion: "3.270.0" });
        expect(result.problems).to.have.length(1);
        expect(result.problems[0]).to.match(/is there but cannot be run \((EACCES|EISDIR)\)/);
        const noExec = path.join(work, "pulumi-noexec");
        fs.writeFileSync(noExec, "#!/bin/sh\necho v3.270.0\n", { mode: 0o644 });
        if (process.getuid?.() !== 0) expect(checkPulumiCli({ pulumiCommand: noExec, sdkVersion: "3.270.0" }).problems[0]).to.match(/cannot be run \(EACCES\)/);
    });

    it("older than the SDK, and no backend logged in", () => {
        const old = script("pulumi-old", "case \"$1\" in version) echo v3.100.2 ;; *) echo 'error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions' >&2; exit 255 ;; esac");
        const result = checkPulumiCli({ pulumiCommand: old, sdkVersion: "3.270.0" });
        expect(result.problems).to.deep.equal([
            "the Pulumi CLI is 3.100.2, older than the SDK (@pulumi/pulumi 3.270.0); install Pulumi CLI 3.270.0 or newer (https://www.pulumi.com/docs/iac/download-install/)",
            "no Pulumi backend is logged in (`" + old + " whoami`: error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions); run `pulumi login` (Pulumi Cloud) or `pulumi login s3://<bucket>` (self-managed state)",
        ]);
    });

    it("a CLI that hangs is bounded", () => {
        const slow = script("pulumi-slow", "sleep 5");
        const started = Date.now();
        const result = checkPulumiCli({ pulumiCommand: slow, sdkVersion: "3.270.0", pulumiTimeoutMs: 300 });
        expect(Date.now() - started).to.be.lessThan(3000);
        expect(result.problems[0]).to.match(/did not finish within 0\.3 s/);
    });
});

/** Runs a script in a fresh Node process that pretends to be Node 18 (which the SDK warns about); its stderr. */
function runPretendingNode18(script: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register", "-e", `Object.defineProperty(process, "version", { value: "v18.20.0" });\n${script}`], {
            cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "" }, stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr!.on("data", (c) => { stderr += c; });
        const timer = setTimeout(() => { child.kill(); reject(new Error("timed out after 15 s")); }, 15000);
        child.on("exit", () => { clearTimeout(timer); resolve(stderr); });
    });
}

describe("aws: no SDK warning noise", function () {
    this.timeout(20000);
    // Started before the moto tests (root hook order: this file's first before()), so the two Node start-ups
    // overlap them instead of adding to the run.
    let runs: Promise<string[]> | undefined;
    const start = () => {
        runs ??= Promise.all([
            // The control: a client built directly does print it (so pretending to be Node 18 triggers it).
            runPretendingNode18(`const { EC2Client } = require("@aws-sdk/client-ec2"); new EC2Client({ region: "eu-west-1" }); process.emitWarning("kaws-test-other-warning");`),
            // kaws' own clients, through preflight (an endpoint with nothing listening: the call fails fast).
            runPretendingNode18(`const { preflight } = require("./automation/aws");
                process.env.AWS_ACCESS_KEY_ID = "AKIAKAWSFAKEKEY00001"; process.env.AWS_SECRET_ACCESS_KEY = "x";
                preflight("eu-west-1", 1, undefined, { endpoint: "http://127.0.0.1:1", maxAttempts: 1, timeoutMs: 2000 })
                    .then(() => process.emitWarning("kaws-test-other-warning"));`),
        ]);
        runs.catch(() => undefined);
        return runs;
    };
    startWarningChecks = start;

    it("the SDK's Node version warning is not printed; other warnings are", async () => {
        const [raw, ours] = await start();
        expect(raw).to.contain("NodeVersionSupportWarning");
        expect(raw).to.contain("kaws-test-other-warning");
        expect(ours).not.to.contain("NodeVersionSupportWarning");
        expect(ours).to.contain("kaws-test-other-warning");
    });
});
