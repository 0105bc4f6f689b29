import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { policyPackDigest, policyPackRelease, policyReleaseFile } from "../../automation/deployments/settings";
import { evaluateStack, Evaluation, RecordedResource } from "../../automation/offline/engine";
import { addonsConfigFrom } from "../../automation/driver";
import { evaluate, idOf, root } from "../harness";
import { fakeAddonSettings } from "../fixtures/addonContract";
import { evaluateRules, Finding, PolicyInput, privateKeyPaths, rules, T } from "../../policy/rules";
import { isSecretEnvelope, unwrapSecrets } from "../../automation/offline/secrets";

// The policy pack's rules over the resources the real program registers: every rule passes on dev, prod and the
// add-ons stack, and each mutation below breaks exactly one rule, naming the resource.

const strings = (value: unknown): string[] => typeof value === "string" ? [value]
    : Array.isArray(value) ? value.flatMap(strings)
        : value && typeof value === "object" ? Object.values(value).flatMap(strings) : [];

/**
 * As the policy host sees a resource. Under mocks a reference to another resource is its placeholder id, which
 * resources of the same name share (the bucket and its configurations), so a dependency names every one of them.
 */
function policyInputs(resources: readonly RecordedResource[]): PolicyInput[] {
    const urnsById = new Map<string, string[]>();
    for (const r of resources.filter((r) => r.custom)) urnsById.set(idOf(r), [...(urnsById.get(idOf(r)) ?? []), r.urn]);
    return resources.map((r) => ({
        type: r.type, urn: r.urn, name: r.name, props: unwrapSecrets(r.inputs),
        propertyDependencies: Object.fromEntries(Object.entries(r.inputs).map(([key, value]) =>
            [key, strings(value).flatMap((s) => urnsById.get(s) ?? [])])),
    }));
}

const findingsOf = (resources: readonly RecordedResource[]): Finding[] => evaluateRules(policyInputs(resources));
const failing = (findings: readonly Finding[]) => [...new Set(findings.map((f) => f.policy))];

const addonsConfig: Record<string, string> = Object.fromEntries(Object.entries(addonsConfigFrom({
    kubeconfig: { value: "apiVersion: v1\nkind: Config\n", secret: true },
    addonSettings: { value: fakeAddonSettings({ nodeApiEndpoint: "https://control-plane.kaws-test.internal:6443" }), secret: false },
    addonSecrets: { value: { weavePassword: "fake-weave-password-0123456789abcdef" }, secret: true },
})).map(([key, { value }]) => [key, value]));

const pemKey = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPlaceholderNotAKey\n-----END EC PRIVATE KEY-----\n";

describe("policy pack rules (policy/rules.ts)", () => {
    const stacks: Record<string, Evaluation> = {};

    before(async function () {
        this.timeout(60000);
        stacks.dev = await evaluate("dev");
        stacks.prod = await evaluate("prod");
        stacks.addons = await evaluateStack({ root: path.join(root, "addons", "program"), stack: "dev", config: addonsConfig });
    });

    it("each published version has one content: policy/release.json records this content for this version (npm run policy:release after a bump)", () => {
        const recorded = JSON.parse(fs.readFileSync(policyReleaseFile(root), "utf8"));
        expect(recorded.version, "policy/release.json is for another version: run npm run policy:release").to.equal(policyPackRelease(root).versionTag);
        expect(recorded.contentSha256, `policy/ changed since version ${recorded.version} was recorded: bump policy/package.json's version (published versions are immutable), then npm run policy:release`)
            .to.equal(policyPackDigest(root));
        // Control: a changed rule file changes the digest; a changed version number alone does not.
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-policy-"));
        try {
            fs.cpSync(path.join(root, "policy"), path.join(copy, "policy"), { recursive: true, filter: (src) => !src.includes("node_modules") });
            const pkgFile = path.join(copy, "policy", "package.json");
            fs.writeFileSync(pkgFile, fs.readFileSync(pkgFile, "utf8").replace(/"version": "[^"]+"/, "\"version\": \"9.9.9\""));
            expect(policyPackDigest(copy)).to.equal(recorded.contentSha256);
            fs.appendFileSync(path.join(copy, "policy", "rules.ts"), "\n// changed\n");
            expect(policyPackDigest(copy)).to.not.equal(recorded.contentSha256);
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });

    it("the pack enforces every rule, and imports nothing from outside its folder (it is published as that folder)", () => {
        const dir = path.join(root, "policy");
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
        const rootPkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
            const specifiers = [...fs.readFileSync(path.join(dir, file), "utf8").matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);
            for (const s of specifiers) {
                if (s.startsWith(".")) expect(path.resolve(dir, s).startsWith(dir + path.sep), `${file} imports ${s}`).to.equal(true);
                else if (s !== "path") expect(pkg.dependencies, `${file} imports ${s}`).to.have.property(s.split("/").slice(0, 2).join("/"));
            }
        }
        for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
            expect(version, name).to.equal({ ...rootPkg.dependencies, ...rootPkg.devDependencies }[name]);
        }
        expect(JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8"))).to.not.have.property("extends");
        // Its own lock file resolves the same versions the repository tests it with.
        const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
        const rootLock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
        expect(lock.packages[""].dependencies).to.deep.equal(pkg.dependencies);
        for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
            expect(lock.packages[`node_modules/${name}`].version, name).to.equal(rootLock.packages[`node_modules/${name}`].version);
        }
        expect(rules.map((r) => r.name)).to.include("kaws-private-keys-in-sinks");
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: every private key the program hands a resource is a secret (the host cannot see secret marks; the engine keeps them)`, () => {
            const plainKeys = (value: unknown, at: string): string[] => isSecretEnvelope(value) ? []
                : typeof value === "string" ? privateKeyPaths(value, at)
                    : Array.isArray(value) ? value.flatMap((v, i) => plainKeys(v, `${at}[${i}]`))
                        : value && typeof value === "object" ? Object.entries(value).flatMap(([k, v]) => plainKeys(v, `${at}.${k}`)) : [];
            const keyed = stacks[env].resources.filter((r) => privateKeyPaths(unwrapSecrets(r.inputs)).length > 0);
            expect(keyed.length).to.be.greaterThan(10);
            expect(keyed.flatMap((r) => plainKeys(r.inputs, r.name))).to.deep.equal([]);
        });
    }

    for (const stack of ["dev", "prod", "addons"]) {
        it(`every rule passes on the ${stack} stack`, () => {
            expect(findingsOf(stacks[stack].resources)).to.deep.equal([]);
        });
    }

    it("the infra stacks have what the rules look at; the add-ons stack has no AWS resource", () => {
        for (const env of ["dev", "prod"]) {
            const types = new Set(stacks[env].resources.map((r) => r.type));
            for (const type of [T.launchTemplate, T.volume, T.buckets[0], T.bucketEncryption[0], T.securityGroup, T.ingressRule, T.rolePolicy]) {
                expect(types, `${env} ${type}`).to.include(type);
            }
            const secretKeys = stacks[env].resources.filter((r) => strings(r.inputs).some((s) => s.includes("PRIVATE KEY-----")));
            expect(secretKeys.length, `${env}: private keys in (secret) inputs`).to.be.greaterThan(0);
        }
        expect(stacks.addons.resources.filter((r) => r.type.startsWith("aws:"))).to.deep.equal([]);
    });

    type Mutation = (resources: RecordedResource[]) => RecordedResource[];
    const edit = (match: (r: RecordedResource) => boolean, change: (inputs: any) => void): Mutation => (resources) => {
        const target = resources.find(match);
        if (!target) throw new Error("no resource to mutate");
        change(target.inputs);
        return resources;
    };
    const add = (resource: Omit<RecordedResource, "urn">): Mutation => (resources) =>
        [...resources, { ...resource, urn: `urn:pulumi:dev::kaws::${resource.type}::${resource.name}` }];
    const ofName = (type: string, suffix: string) => (r: RecordedResource) => r.type === type && r.name.endsWith(suffix);
    const wildcardStatement = (action: string) => (inputs: any) => {
        const document = JSON.parse(inputs.policy);
        document.Statement.push({ Sid: "Everything", Effect: "Allow", Action: action, Resource: "*" });
        inputs.policy = JSON.stringify(document);
    };

    const cases: { what: string; policy: string; resource: string; mutate: Mutation }[] = [
        { what: "httpTokens optional on the control-plane launch template", policy: "kaws-imdsv2-required", resource: "kaws-dev-controlplane",
            mutate: edit(ofName(T.launchTemplate, "-controlplane"), (i) => { i.metadataOptions.httpTokens = "optional"; }) },
        { what: "an instance without metadata options", policy: "kaws-imdsv2-required", resource: "stray",
            mutate: add({ type: T.instance, name: "stray", custom: true, inputs: { ami: "ami-1", instanceType: "t3.micro" } }) },
        { what: "no kmsKeyId on an etcd volume", policy: "kaws-encrypted-volumes", resource: "kaws-dev-etcd-0-data",
            mutate: edit(ofName(T.volume, "-etcd-0-data"), (i) => { delete i.kmsKeyId; }) },
        { what: "an unencrypted launch-template block device", policy: "kaws-encrypted-volumes", resource: "kaws-dev-general-worker-general",
            mutate: edit(ofName(T.launchTemplate, "-worker-general"), (i) => { i.blockDeviceMappings[0].ebs.encrypted = "false"; }) },
        { what: "the bucket's encryption configuration removed", policy: "kaws-encrypted-buckets", resource: "kaws-dev-assets",
            mutate: (resources) => resources.filter((r) => !(T.bucketEncryption as readonly string[]).includes(r.type)) },
        { what: "the bucket encrypted with AES256", policy: "kaws-encrypted-buckets", resource: "kaws-dev-assets",
            mutate: edit((r) => r.type === T.bucketEncryption[0], (i) => { i.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" }; }) },
        { what: "a launch template associating a public IP", policy: "kaws-no-public-ip", resource: "kaws-dev-general-worker-general",
            mutate: edit(ofName(T.launchTemplate, "-worker-general"), (i) => { i.networkInterfaces = [{ deviceIndex: 0, associatePublicIpAddress: "true" }]; }) },
        { what: "an instance associating a public IP", policy: "kaws-no-public-ip", resource: "stray",
            mutate: add({ type: T.instance, name: "stray", custom: true, inputs: { metadataOptions: { httpTokens: "required" }, associatePublicIpAddress: true } }) },
        { what: "an ingress rule from 0.0.0.0/0 on the workers' group", policy: "kaws-no-ingress-from-anywhere", resource: "kaws-dev-workers-in-ssh",
            mutate: add({ type: T.ingressRule, name: "kaws-dev-workers-in-ssh", custom: true,
                inputs: { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22, ipProtocol: "tcp", securityGroupId: "placeholder-kaws-dev-workers" } }) },
        { what: "an ingress security-group rule from ::/0", policy: "kaws-no-ingress-from-anywhere", resource: "kaws-dev-etcd-in-any",
            mutate: add({ type: T.securityGroupRule, name: "kaws-dev-etcd-in-any", custom: true,
                inputs: { type: "ingress", ipv6CidrBlocks: ["::/0"], fromPort: 0, toPort: 65535, protocol: "tcp", securityGroupId: "placeholder-kaws-dev-etcd" } }) },
        { what: "inline ingress from 0.0.0.0/0 on the etcd group", policy: "kaws-no-ingress-from-anywhere", resource: "kaws-dev-etcd",
            mutate: edit(ofName(T.securityGroup, "-etcd"), (i) => { i.ingress = [{ protocol: "tcp", fromPort: 2379, toPort: 2379, cidrBlocks: ["0.0.0.0/0"] }]; }) },
        { what: "s3:* in a node role policy", policy: "kaws-no-wildcard-iam-actions", resource: "kaws-dev-general-worker-general-policy",
            mutate: edit(ofName(T.rolePolicy, "-worker-general-policy"), wildcardStatement("s3:*")) },
        { what: "a bare * in a role's inline policy", policy: "kaws-no-wildcard-iam-actions", resource: "kaws-dev-etcd-role",
            mutate: edit(ofName(T.role, "-etcd-role"), (i) => { i.inlinePolicies = [{ name: "all", policy: { Statement: [{ Effect: "Allow", Action: ["*"], Resource: "*" }] } }]; }) },
        { what: "a PEM private key in launch-template user data", policy: "kaws-private-keys-in-sinks", resource: "kaws-dev-general-worker-general",
            mutate: edit(ofName(T.launchTemplate, "-worker-general"), (i) => { i.userData = pemKey; }) },
        { what: "a PEM private key in an S3 object without SSE-KMS", policy: "kaws-private-keys-in-sinks", resource: "kaws-dev-controlplane/etc/kubernetes/pki/ca.crt",
            mutate: edit((r) => r.name === "kaws-dev-controlplane/etc/kubernetes/pki/ca.crt", (i) => { i.content = pemKey; delete i.serverSideEncryption; }) },
    ];

    for (const c of cases) {
        it(`${c.what} breaks ${c.policy} alone, naming ${c.resource}`, () => {
            const findings = findingsOf(c.mutate(structuredClone(stacks.dev.resources)));
            expect(failing(findings)).to.deep.equal([c.policy]);
            for (const f of findings) expect(f.message).to.contain(c.resource);
        });
    }

    it("allows what the rules deliberately leave alone", () => {
        const allowed: Mutation[] = [
            // The API load balancer's group admits the configured CIDRs of an internet-facing API.
            edit(ofName(T.securityGroup, "-api-lb"), (i) => { i.ingress[0].cidrBlocks = ["0.0.0.0/0"]; }),
            edit(ofName(T.rolePolicy, "-worker-general-policy"), wildcardStatement("ec2:Describe*")),
            edit(ofName(T.role, "-etcd-role"), (i) => { i.assumeRolePolicy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "*" }, Action: "*" }] }); }),
            edit(ofName(T.rolePolicy, "-etcd-policy"), (i) => {
                const document = JSON.parse(i.policy);
                document.Statement.push({ Effect: "Deny", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
                i.policy = JSON.stringify(document);
            }),
        ];
        for (const mutate of allowed) expect(findingsOf(mutate(structuredClone(stacks.dev.resources)))).to.deep.equal([]);
    });

    it("the inline-ingress exemption is the API load balancer's group only, by its parent component", () => {
        const moved = edit(ofName(T.securityGroup, "-api-lb"), (i) => { i.ingress[0].cidrBlocks = ["0.0.0.0/0"]; });
        const resources = moved(structuredClone(stacks.dev.resources)).map((r) => r.name.endsWith("-api-lb") && r.type === T.securityGroup
            ? { ...r, urn: r.urn.replace("kaws:controlplane:ApiLoadBalancer$", "kaws:network:SecurityGroups$") } : r);
        expect(failing(findingsOf(resources))).to.deep.equal(["kaws-no-ingress-from-anywhere"]);
    });
});
