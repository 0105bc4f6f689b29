import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CliDeps, exitCodes, runCli } from "../../automation/cli";
import { configSchema } from "../../plan/config";
import { preflightEnvironment } from "../../automation/aws";
import { snapshotFiles, throwawayProject } from "../harness";

// Bad input, as a new user types it: stack configuration, CLI arguments and the files and environment
// around them. Every case must end with its exit code, a first line `kaws: <key or argument>: … accepted: …`
// (or the named key's problem), no stack trace, no secret, and nothing written or created anywhere.

interface Case {
    readonly what: string;
    readonly argv: readonly string[];
    /** Edits the stack file of `env` (its `config:` mapping) before running. */
    readonly config?: { readonly env: string; readonly set: Record<string, unknown> };
    /** Writes these files into the project (relative path -> text). */
    readonly files?: Record<string, string>;
    readonly code: number;
    /** The first line of stderr (or, with `anyLine`, one of its lines). */
    readonly line: RegExp;
    /** Environment variables set while the case runs (preflight reads the real environment). */
    readonly env?: Record<string, string | undefined>;
    readonly anyLine?: boolean;
}

/** AWS settings that keep every request on loopback or unsent: no instance metadata, no shared files, no keys. */
const isolatedAws = (extra: Record<string, string | undefined>): Record<string, string | undefined> => ({
    AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/nonexistent/kaws-config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/kaws-credentials",
    AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined, AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_ENDPOINT_URL: "http://127.0.0.1:9", ...extra,
});
const fakeKeys = { AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE", AWS_SECRET_ACCESS_KEY: "fakeSecretKeyThatMustNeverBePrinted0000" };

const render = (env = "dev") => ["render", env, "--out", "work/out"];
const set = (key: string, value: unknown, env = "dev"): Case["config"] => ({ env, set: { [key.includes(":") ? key : `kaws:${key}`]: value } });
const pool = (extra: Record<string, unknown>) => [{ name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 3, ...extra }];

/** Wrong types and out-of-range values for every key of the schema: each must name the key and what it accepts. */
function schemaCases(): Case[] {
    const cases: Case[] = [];
    for (const [key, rule] of Object.entries<any>(configSchema.properties)) {
        const named = (what: string, value: unknown): Case => ({
            what: `kaws:${key} ${what}`, argv: render(), config: set(key, value), code: exitCodes.usage,
            line: new RegExp(`^kaws: kaws:${key}: .*; accepted: .+`),
        });
        if (rule.enum) cases.push(named("outside its values", typeof rule.enum[0] === "number" ? 2 : "bogus-value"));
        if (rule.type === "integer") {
            cases.push(named("as text", "many"), named("with a fraction", 1.5));
            if (rule.minimum !== undefined) cases.push(named("below its minimum", rule.minimum - 1));
            if (rule.maximum !== undefined) cases.push(named("above its maximum", rule.maximum + 1));
        }
        if (rule.type === "boolean") cases.push(named("as a word", "maybe"));
        if (rule.type === "string" && rule.pattern) cases.push(named("malformed", "Not Valid!"));
        if (rule.type === "string" && !rule.pattern) cases.push(named("as a list", ["a", "b"]));
        if (rule.type === "array") cases.push(named("as a single value", "x"));
    }
    return cases;
}

const cases: Case[] = [
    ...schemaCases(),
    // Configuration: rules across keys and values.
    { what: "a cluster name with capitals", argv: render(), config: set("clusterName", "Kaws_Dev"), code: exitCodes.usage, line: /^kaws: kaws:clusterName: "Kaws_Dev" is not allowed; accepted: a DNS label/ },
    { what: "a cluster name too long", argv: render(), config: set("clusterName", "a-very-long-cluster-name-x"), code: exitCodes.usage, line: /^kaws: kaws:clusterName: .* accepted: a DNS label .* at most 24 characters/ },
    { what: "a cluster name another stack uses", argv: render(), config: set("clusterName", "kaws-prod"), code: exitCodes.usage, line: /^kaws: kaws:clusterName: "kaws-prod" is also the cluster name of stack prod \(Pulumi\.prod\.yaml\); accepted: / },
    { what: "a misspelt key", argv: render(), config: set("azcount", 2), code: exitCodes.usage, line: /^kaws: kaws:azcount: is not a known key; accepted: .*did you mean kaws:azCount\?/ },
    { what: "a misspelt namespace", argv: render(), config: set("kawz:etcdMembers", 3), code: exitCodes.usage, line: /^kaws: kawz:etcdMembers: unknown namespace "kawz"; accepted: kaws:<key>, aws:<key>, pulumi:<key>/ },
    { what: "no region", argv: render(), config: set("aws:region", null), code: exitCodes.usage, line: /^kaws: aws:region: is required; set it in Pulumi\.<stack>\.yaml/ },
    { what: "an unknown region", argv: render(), config: set("aws:region", "eu-west-9"), code: exitCodes.usage, line: /^kaws: aws:region: "eu-west-9" is not an AWS region .*; accepted: / },
    { what: "an unknown etcd instance type", argv: render(), config: set("etcdInstanceType", "t3.superhuge"), code: exitCodes.usage, line: /^kaws: kaws:etcdInstanceType: "t3.superhuge" is not an EC2 instance type .*; accepted: / },
    { what: "an unknown control-plane instance type", argv: render(), config: set("controlPlaneInstanceType", "m7i.enormous"), code: exitCodes.usage, line: /^kaws: kaws:controlPlaneInstanceType: "m7i.enormous" is not an EC2 instance type/ },
    { what: "an unknown pool instance type", argv: render(), config: set("workerPools", pool({ instanceTypes: ["m7i.large", "x9z.huge"] })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.instanceTypes\[1\]: "x9z.huge" is not an EC2 instance type/ },
    { what: "a VPC range with host bits", argv: render(), config: set("vpcCidr", "10.0.0.1/16"), code: exitCodes.usage, line: /^kaws: kaws:vpcCidr: "10\.0\.0\.1\/16" is not a CIDR network address; accepted: / },
    { what: "a public VPC range", argv: render(), config: set("vpcCidr", "8.8.0.0/16"), code: exitCodes.usage, line: /^kaws: kaws:vpcCidr: "8\.8\.0\.0\/16" is not private; accepted: / },
    { what: "a VPC range too small", argv: render(), config: set("vpcCidr", "10.0.0.0/24"), code: exitCodes.usage, line: /^kaws: kaws:vpcCidr: "10\.0\.0\.0\/24" has prefix \/24; accepted: \/16 to \/20/ },
    { what: "a pod range overlapping the VPC", argv: render(), config: set("podCidr", "10.0.0.0/12"), code: exitCodes.usage, line: /^kaws: kaws:podCidr: .* overlaps kaws:vpcCidr .*; accepted: / },
    { what: "a service range overlapping the pods", argv: render(), config: set("serviceCidr", "10.40.0.0/16"), code: exitCodes.usage, line: /^kaws: kaws:serviceCidr: .* overlaps kaws:podCidr .*; accepted: / },
    { what: "a service range not a CIDR", argv: render(), config: set("serviceCidr", "ten"), code: exitCodes.usage, line: /^kaws: kaws:serviceCidr: "ten" is not a CIDR network address; accepted: / },
    { what: "an allowed API CIDR that is not one", argv: render(), config: set("apiAllowedCidrs", ["203.0.113.0/33"]), code: exitCodes.usage, line: /^kaws: kaws:apiAllowedCidrs\[0\]: "203\.0\.113\.0\/33" is not a CIDR network address; accepted: / },
    { what: "an internet-facing API with no allowed CIDR", argv: render(), config: { env: "dev", set: { "kaws:apiAccess": "internet-facing", "kaws:apiAllowedCidrs": [] } }, code: exitCodes.usage, line: /^kaws: kaws:apiAllowedCidrs: is empty but kaws:apiAccess is "internet-facing"; accepted: / },
    { what: "a prod API open to the whole internet", argv: render("prod"), config: { env: "prod", set: { "kaws:apiAccess": "internet-facing", "kaws:apiAllowedCidrs": ["0.0.0.0/0"] } }, code: exitCodes.usage, line: /^kaws: kaws:apiAllowedCidrs\[0\]: "0\.0\.0\.0\/0" opens the API of a prod cluster to the whole internet; accepted: / },
    { what: "a prod API open to the internet in two halves", argv: render("prod"), config: { env: "prod", set: { "kaws:apiAccess": "internet-facing", "kaws:apiAllowedCidrs": ["0.0.0.0/1", "128.0.0.0/1"] } }, code: exitCodes.usage, line: /^kaws: kaws:apiAllowedCidrs: .* together cover every IPv4 address.*; accepted: / },
    { what: "prod over two zones", argv: render("prod"), config: set("azCount", 2, "prod"), code: exitCodes.usage, line: /^kaws: kaws:azCount: 2 is too few for environment "prod"; accepted: 3 to 6/ },
    { what: "prod with one etcd member", argv: render("prod"), config: set("etcdMembers", 1, "prod"), code: exitCodes.usage, line: /^kaws: kaws:etcdMembers: 1 is too few for environment "prod"; accepted: 3 \| 5 \| 7/ },
    { what: "prod with one control-plane node", argv: render("prod"), config: set("controlPlaneCount", 1, "prod"), code: exitCodes.usage, line: /^kaws: kaws:controlPlaneCount: 1 is too few for environment "prod"; accepted: 2 to 9/ },
    { what: "no NAT without a pre-baked image", argv: render(), config: set("natGateways", "none"), code: exitCodes.usage, line: /^kaws: kaws:natGateways: "none" leaves nodes no way to download .*; accepted: perAz \| single \| instance, or set kaws:imageId/ },
    { what: "leaf certificates outliving their CA", argv: render(), config: { env: "dev", set: { "kaws:leafValidityHours": 90000, "kaws:caValidityHours": 87600 } }, code: exitCodes.usage, line: /^kaws: kaws:leafValidityHours: 90000 is not shorter than kaws:caValidityHours 87600; accepted: / },
    { what: "renewal before issue", argv: render(), config: set("certEarlyRenewalHours", 9000), code: exitCodes.usage, line: /^kaws: kaws:certEarlyRenewalHours: 9000 is not shorter than kaws:leafValidityHours .*; accepted: / },
    { what: "no worker pool", argv: render(), config: set("workerPools", []), code: exitCodes.usage, line: /^kaws: kaws:workerPools: needs at least 1 item; accepted: / },
    { what: "two pools of one name", argv: render(), config: set("workerPools", [...pool({}), ...pool({})]), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[1\]\.name: "general" is used by another pool; accepted: unique names/ },
    { what: "a pool name with capitals", argv: render(), config: set("workerPools", pool({ name: "Big_Pool" })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.name: "Big_Pool" is malformed; accepted: / },
    { what: "pool sizes out of order", argv: render(), config: set("workerPools", pool({ minSize: 3, desiredSize: 2 })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]: minSize 3, desiredSize 2, maxSize 3 are out of order; accepted: / },
    { what: "a pool without its sizes", argv: render(), config: set("workerPools", [{ name: "general", instanceTypes: ["m7i.large"] }]), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.(minSize|desiredSize|maxSize): is required; accepted: / },
    { what: "a pool mixing architectures", argv: render(), config: set("workerPools", pool({ instanceTypes: ["m7i.large", "m7g.large"] })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.instanceTypes: .* mixes arm64 and x86_64; accepted: / },
    { what: "a pool with more on-demand base than capacity", argv: render(), config: set("workerPools", pool({ onDemandBaseCapacity: 9 })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.onDemandBaseCapacity: 9 exceeds maxSize 3; accepted: / },
    { what: "a pool key that does not exist", argv: render(), config: set("workerPools", pool({ spotPercent: 50 })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.spotPercent: is not a known key; accepted: / },
    { what: "a node-role label", argv: render(), config: set("workerPools", pool({ labels: { "node-role.kubernetes.io/worker": "" } })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.labels\["node-role\.kubernetes\.io\/worker"\]: .* is refused: kubelets cannot set .*; accepted: / },
    { what: "a label key with a space", argv: render(), config: set("workerPools", pool({ labels: { "bad key": "x" } })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.labels\["bad key"\]: "bad key" is not a valid label key; accepted: / },
    { what: "a label value with a space", argv: render(), config: set("workerPools", pool({ labels: { team: "a b" } })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.labels\["team"\]: "a b" is not a valid label value; accepted: / },
    { what: "a pool label kaws sets otherwise", argv: render(), config: set("workerPools", pool({ labels: { "kaws.io/pool": "other" } })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.labels\["kaws\.io\/pool"\]: "other" is not the pool's name.*; accepted: "general"/ },
    { what: "a taint key with a space", argv: render(), config: set("workerPools", pool({ taints: [{ key: "dedicated team", effect: "NoSchedule" }] })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.taints\[0\]\.key: "dedicated team" is not a valid taint key; accepted: / },
    { what: "a taint value starting with a dash", argv: render(), config: set("workerPools", pool({ taints: [{ key: "ok", value: "-x", effect: "NoSchedule" }] })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.taints\[0\]\.value: "-x" is not a valid taint value; accepted: / },
    { what: "a taint effect that does not exist", argv: render(), config: set("workerPools", pool({ taints: [{ key: "ok", effect: "NoRun" }] })), code: exitCodes.usage, line: /^kaws: kaws:workerPools\[0\]\.taints\[0\]\.effect: "NoRun" is not allowed; accepted: NoSchedule \| PreferNoSchedule \| NoExecute/ },
    { what: "an AMI id that is not one", argv: render(), config: set("imageId", "ami-xyz"), code: exitCodes.usage, line: /^kaws: kaws:imageId: "ami-xyz" is malformed; accepted: / },
    // Files around the configuration.
    { what: "a stack file that is not YAML", argv: render(), files: { "Pulumi.dev.yaml": "config:\n  kaws:azCount: [1, 2\n" }, code: exitCodes.failed, line: /^kaws: Pulumi\.dev\.yaml:\d+:\d+: / },
    { what: "a project file that is not YAML", argv: render(), files: { "Pulumi.yaml": "name: kaws\nconfig: {\n" }, code: exitCodes.failed, line: /^kaws: Pulumi\.yaml:\d+:\d+: / },
    { what: "an encrypted value offline", argv: render(), config: set("clusterName", { secure: "AAABAxyz" }), code: exitCodes.failed, line: /^kaws: kaws:clusterName in Pulumi\.dev\.yaml is encrypted; offline evaluation cannot decrypt it/ },
    { what: "a stack name Pulumi refuses", argv: ["render", "my stack"], files: { "Pulumi.my stack.yaml": "config:\n  kaws:clusterName: kaws-x\n" }, code: exitCodes.usage, line: /^kaws: Pulumi\.my stack\.yaml: stack name "my stack" is not one Pulumi accepts; accepted: letters, digits/ },
    // CLI arguments.
    { what: "an unknown environment", argv: ["render", "staging"], code: exitCodes.usage, line: /^kaws: unknown environment "staging"; accepted: dev \| prod/ },
    { what: "an environment with a path in it", argv: ["render", "../dev"], code: exitCodes.usage, line: /^kaws: unknown environment "\.\.\/dev"; accepted: dev \| prod/ },
    { what: "an empty environment", argv: ["render", ""], code: exitCodes.usage, line: /^kaws: unknown environment ""; accepted: dev \| prod/ },
    ...["preview", "up", "destroy", "kubeconfig", "outputs", "preflight", "validate", "janitor", "cost"].map((command): Case => ({
        what: `${command} of an unknown environment`, argv: [command, "qa"], code: exitCodes.usage, line: /^kaws: unknown environment "qa"; accepted: dev \| prod/,
    })),
    ...["render", "preview", "up", "destroy", "kubeconfig", "outputs", "preflight", "validate", "janitor", "cost"].map((command): Case => ({
        what: `${command} without an environment`, argv: [command], code: exitCodes.usage, line: /^error: missing required argument 'env'/,
    })),
    ...["render", "up", "destroy", "outputs"].map((command): Case => ({
        what: `${command} with an unknown flag`, argv: [command, "dev", "--force"], code: exitCodes.usage, line: /^error: unknown option '--force'/,
    })),
    { what: "validate with a malformed wait", argv: ["validate", "dev", "--wait", "soon"], code: exitCodes.usage, line: /^kaws: --wait "soon": is not a duration; accepted: / },
    { what: "an unknown command", argv: ["frobnicate", "dev"], code: exitCodes.usage, line: /^error: unknown command 'frobnicate'/ },
    { what: "a misspelt command", argv: ["rendr", "dev"], code: exitCodes.usage, line: /^error: unknown command 'rendr'(\n|.)*/ },
    { what: "too many arguments", argv: ["render", "dev", "prod"], code: exitCodes.usage, line: /^error: too many arguments for 'render'/ },
    { what: "--out without a value", argv: ["render", "dev", "--out"], code: exitCodes.usage, line: /^error: option '--out <dir>' argument missing/ },
    { what: "destroy without --yes and no terminal", argv: ["destroy", "dev"], code: exitCodes.usage, line: /^kaws: destroy deletes the whole cluster; pass --yes to confirm when stdin is not a terminal/ },
    { what: "--out an empty path", argv: ["render", "dev", "--out", ""], code: exitCodes.usage, line: /^kaws: --out: an empty path; accepted: / },
    { what: "--out the current folder", argv: ["render", "dev", "--out", "."], code: exitCodes.usage, line: /^kaws: --out \.: is the current folder; accepted: / },
    { what: "--out the project folder", argv: ["render", "dev", "--out", ".."], code: exitCodes.usage, line: /^kaws: --out \.\.: is the repository or a folder containing it; accepted: / },
    { what: "--out a file", argv: ["render", "dev", "--out", "../Pulumi.yaml"], code: exitCodes.usage, line: /^kaws: --out \.\.\/Pulumi\.yaml: is a file; accepted: / },
    { what: "--out a device", argv: ["render", "dev", "--out", "/dev/null"], code: exitCodes.usage, line: /^kaws: --out \/dev\/null: is not a folder .*; accepted: / },
    { what: "--out a folder of other files", argv: ["render", "dev", "--out", "../plan"], code: exitCodes.usage, line: /^kaws: --out \.\.\/plan: is a symbolic link; accepted: / },
    { what: "--out under /proc", argv: ["render", "dev", "--out", "/proc/kaws"], code: exitCodes.usage, line: /^kaws: --out \/proc\/kaws: its folder \/proc cannot be written/ },
    { what: "--out under a file", argv: ["render", "dev", "--out", "../Pulumi.yaml/x"], code: exitCodes.usage, line: /^kaws: --out \.\.\/Pulumi\.yaml\/x: its folder .* cannot be written/ },
    // The environment around the CLI, through the real preflight (every request stays on loopback).
    { what: "a profile that does not exist", argv: ["preflight", "dev"], env: isolatedAws({ AWS_PROFILE: "kaws-nonexistent" }), code: exitCodes.failed, anyLine: true, line: /^preflight: .*credentials.*kaws-nonexistent.*aws (configure|sso login) --profile kaws-nonexistent/i },
    { what: "no credentials anywhere", argv: ["preflight", "dev"], env: isolatedAws({}), code: exitCodes.failed, anyLine: true, line: /^preflight: .*credentials/i },
    { what: "an AWS endpoint nothing listens on", argv: ["preflight", "dev"], env: isolatedAws(fakeKeys), code: exitCodes.failed, anyLine: true, line: /^preflight: .*127\.0\.0\.1:9/ },
    { what: "an AWS endpoint that is not a URL", argv: ["preflight", "dev"], env: isolatedAws({ ...fakeKeys, AWS_ENDPOINT_URL: "not a url" }), code: exitCodes.failed, anyLine: true, line: /^preflight: .*AWS_ENDPOINT_URL/ },
    { what: "a region set only in the environment", argv: ["preflight", "dev"], config: set("aws:region", null), env: isolatedAws({ ...fakeKeys, AWS_REGION: "eu-west-1" }), code: exitCodes.failed, line: /^preflight: aws:region: is required; set it in Pulumi\.<stack>\.yaml/ },
    { what: "a Pulumi CLI that is not installed", argv: ["preflight", "dev"], env: isolatedAws({ ...fakeKeys, PATH: "/nonexistent" }), code: exitCodes.failed, anyLine: true, line: /^preflight: .*Pulumi CLI/ },
];

/** Driver commands never reach a stack here: any call is a failure of the test. Preflight is the real one. */
const noStacks = (projectDir: string) => (): CliDeps => {
    const refuse = () => { throw new Error("a bad input reached the stacks"); };
    return {
        stacks: { infra: refuse, addons: refuse } as unknown as CliDeps["stacks"],
        waitForApi: refuse, janitor: { removeCloudResources: refuse } as unknown as CliDeps["janitor"], sweeper: { leftovers: refuse } as unknown as CliDeps["sweeper"],
        preflight: (env, signal) => preflightEnvironment(projectDir, env, signal, { timeoutMs: 3000 }),
        signal: new AbortController().signal, stdinIsTTY: false, prompt: refuse,
    };
};

describe("bad input: one clear line, the right exit code, nothing written", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => { dir = throwawayProject(); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it(`has at least 120 cases (${cases.length})`, () => {
        expect(cases.length).to.be.at.least(120);
        expect(new Set(cases.map((c) => c.what)).size, "each case is different").to.equal(cases.length);
    });

    for (const c of cases) {
        it(c.what, async () => {
            const stackFiles = Object.fromEntries(["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"].map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
            try {
                if (c.config) {
                    const file = path.join(dir, `Pulumi.${c.config.env}.yaml`);
                    const doc = YAML.parse(stackFiles[`Pulumi.${c.config.env}.yaml`]);
                    for (const [key, value] of Object.entries(c.config.set)) {
                        if (value === null) delete doc.config[key];
                        else doc.config[key] = value;
                    }
                    fs.writeFileSync(file, YAML.stringify(doc));
                }
                for (const [file, text] of Object.entries(c.files ?? {})) fs.writeFileSync(path.join(dir, file), text);
                const before = snapshotFiles(dir);
                const savedEnv = { ...process.env };
                for (const [key, value] of Object.entries(c.env ?? {})) {
                    if (value === undefined) delete process.env[key];
                    else process.env[key] = value;
                }
                let stdout = "";
                let stderr = "";
                let code: number;
                try {
                    code = await runCli([...c.argv], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, dir, noStacks(dir), path.join(dir, "work"));
                } finally {
                    process.env = savedEnv;
                }
                expect(code, stderr).to.equal(c.code);
                if (c.anyLine) expect(stderr.split("\n").some((line) => c.line.test(line)), stderr).to.equal(true);
                else expect(stderr.split("\n")[0]).to.match(c.line);
                expect(stderr, "no stack trace").to.not.match(/\n\s+at \S+ \(|Error: .*\n\s+at /);
                expect(stderr + stdout, "no secret").to.not.match(/PRIVATE KEY|client-key-data|token: [a-z0-9]{6}\.[a-z0-9]{16}|fakeSecretKeyThatMustNeverBePrinted/);
                expect(snapshotFiles(dir), "nothing written or created").to.deep.equal(before);
            } finally {
                for (const [file, text] of Object.entries(stackFiles)) fs.writeFileSync(path.join(dir, file), text);
                for (const file of Object.keys(c.files ?? {}).filter((f) => !(f in stackFiles))) fs.rmSync(path.join(dir, file), { force: true });
            }
        });
    }
});
