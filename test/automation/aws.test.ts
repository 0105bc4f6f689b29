import { expect } from "chai";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as net from "net";
import { CreateSecurityGroupCommand, CreateVolumeCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { awsSweeper, preflight, taggedLeftovers } from "../../automation/aws";

function hasMoto(): boolean {
    try { execFileSync("moto_server", ["--help"], { stdio: "ignore" }); return true; } catch { return false; }
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        }).on("error", reject);
    });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => { socket.end(); resolve(true); }).on("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not listen on ${port} within ${timeoutMs} ms`);
}

describe("aws (preflight and post-destroy sweep, against moto_server)", function () {
    this.timeout(20000);
    const region = "eu-west-1";
    const saved = { ...process.env };
    let moto: ChildProcess | undefined;
    let endpoint: string;

    before(async function () {
        if (!hasMoto()) {
            if (process.env.CI === "true") throw new Error("moto_server is required in CI");
            console.log("    skipped: moto_server is not on PATH");
            this.skip();
        }
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_SESSION_TOKEN: "testing", AWS_EC2_METADATA_DISABLED: "true", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
        const port = await freePort();
        moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
        endpoint = `http://127.0.0.1:${port}`;
        await waitForPort(port, 15000);

        const ec2 = new EC2Client({ region, endpoint });
        const tags = (cluster: string) => [{ Key: `kubernetes.io/cluster/${cluster}`, Value: "owned" }];
        await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, TagSpecifications: [{ ResourceType: "volume", Tags: tags("kaws-test") }] }));
        await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, TagSpecifications: [{ ResourceType: "volume", Tags: tags("someone-else") }] }));
        const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
        await ec2.send(new CreateSecurityGroupCommand({ GroupName: "k8s-elb-leftover", Description: "left by the CCM", VpcId: vpc.Vpc!.VpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: tags("kaws-test") }] }));
        ec2.destroy();
    });

    after(() => {
        moto?.kill("SIGTERM");
        process.env = saved;
    });

    it("lists exactly the resources tagged for this cluster", async () => {
        const leftovers = await taggedLeftovers("kaws-test", region, undefined, { endpoint });
        expect(leftovers).to.have.length(2);
        expect(leftovers.some((arn) => /:volume\/vol-/.test(arn))).to.equal(true);
        expect(leftovers.some((arn) => /:security-group\/sg-/.test(arn))).to.equal(true);
        expect(await awsSweeper({ endpoint }).leftovers("nothing-here", region, new AbortController().signal)).to.deep.equal([]);
    });

    it("preflight reports the account and a region with too few zones", async () => {
        const ok = await preflight(region, 3, undefined, { endpoint });
        expect(ok.account).to.match(/^\d{12}$/);
        expect(ok.problems).to.deep.equal([]);
        const tooMany = await preflight(region, 9, undefined, { endpoint });
        expect(tooMany.problems.join()).to.match(/eu-west-1 has \d available zone\(s\); kaws:azCount asks for 9/);
    });

    it("gives up within its time bound when AWS does not answer", async () => {
        const sockets: net.Socket[] = [];
        const silent = net.createServer((socket) => { sockets.push(socket); }).listen(0, "127.0.0.1");
        await new Promise((r) => silent.once("listening", r));
        const started = Date.now();
        let error: unknown;
        try {
            await taggedLeftovers("kaws-test", region, undefined, { endpoint: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, timeoutMs: 500 });
        } catch (err) { error = err; }
        sockets.forEach((socket) => socket.destroy());
        silent.close();
        expect(error).to.be.instanceOf(Error);
        expect(Date.now() - started).to.be.lessThan(5000);
    });
});
