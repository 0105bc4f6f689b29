import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { execFileSync } from "child_process";
import { redacted, renderEnvironment } from "../../automation/offline/render";
import { loadStackConfig } from "../../automation/stackConfig";
import { evaluate, ofType, root } from "../harness";
import { toolAvailable } from "../tools";

const program = "test/fixtures/encryptionProgram.ts";

function only(evaluation: Evaluation, type: string): RecordedResource {
    const found = ofType(evaluation, type);
    expect(found, type).to.have.length(1);
    return found[0];
}

const hasPrivateKey = (value: unknown) => JSON.stringify(value ?? null).includes("PRIVATE KEY");

describe("encryption", function () {
    // The fixture program builds the same Encryption component from each environment's real configuration
    // (fast); the full program is rendered once (dev) as `kaws render` does, and its output folder checked.
    const stacks: Record<string, Evaluation> = {};
    let files: Evaluation;
    let renderDir: string;

    before(async () => {
        for (const env of ["dev", "prod"]) stacks[env] = await evaluate(env, {}, program);
        files = stacks.dev;
        renderDir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-render-enc-"));
        await renderEnvironment(root, "dev", renderDir);
    });

    after(() => renderDir && fs.rmSync(renderDir, { recursive: true, force: true }));

    for (const env of ["dev", "prod"]) {
        describe(env, () => {
            const config = () => loadStackConfig(root, env);
            const clusterName = () => config()["kaws:clusterName"];

            it("creates one customer KMS key with rotation and a 30-day deletion window, aliased alias/kaws-<cluster>", () => {
                const key = only(stacks[env], "aws:kms/key:Key");
                expect(key.inputs.enableKeyRotation).to.equal(true);
                expect(key.inputs.deletionWindowInDays).to.equal(30);
                const alias = only(stacks[env], "aws:kms/alias:Alias");
                expect(alias.inputs.name).to.equal(`alias/kaws-${clusterName()}`);
                expect(alias.inputs.targetKeyId).to.equal(`placeholder-${key.name}`);
            });

            it("keeps the key's and alias's identity from when the Encryption component created them (a new key would replace every encrypted volume)", () => {
                const former = ofType(stacks[env], "kaws:encryption:Encryption")[0].urn;
                for (const type of ["aws:kms/key:Key", "aws:kms/alias:Alias"]) {
                    const resource = only(stacks[env], type);
                    expect(ofType(stacks[env], "kaws:encryption:ClusterKey").map((c) => c.urn), type).to.include(resource.parent);
                    expect(resource.aliases, type).to.deep.equal([{ parentUrn: former }]);
                }
            });

            it("lets the account administer the key through IAM, only the Auto Scaling service-linked role use it directly, and CloudWatch Logs only for this account's log groups", () => {
                const policy = JSON.parse(only(stacks[env], "aws:kms/key:Key").inputs.policy);
                const [account, ...others] = policy.Statement;
                expect(account.Principal).to.deep.equal({ AWS: "arn:aws:iam::000000000000:root" });
                expect(account.Effect).to.equal("Allow");
                const region = config()["aws:region"];
                const logs = others.filter((s: any) => s.Principal.Service !== undefined);
                expect(logs).to.have.length(1);
                expect(logs[0]).to.deep.include({ Effect: "Allow", Principal: { Service: `logs.${region}.amazonaws.com` }, Resource: "*" });
                expect(logs[0].Action).to.have.members(["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]);
                expect(logs[0].Condition).to.deep.equal({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:000000000000:log-group:*` } });
                for (const statement of others.filter((s: any) => s !== logs[0])) {
                    expect(statement.Principal).to.deep.equal({ AWS: "*" });
                    expect(statement.Condition.StringEquals["aws:PrincipalArn"]).to.equal("arn:aws:iam::000000000000:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling");
                    expect(statement.Condition.StringEquals["aws:PrincipalAccount"]).to.equal("000000000000");
                    expect([statement.Action].flat()).to.not.include("kms:*");
                }
                const grant = others.find((s: any) => s.Action === "kms:CreateGrant");
                expect(grant.Condition.Bool).to.deep.equal({ "kms:GrantIsForAWSResource": "true" });
            });

            it("keeps node files in a private, versioned bucket encrypted with the cluster key (bucket key on)", () => {
                const e = stacks[env];
                const bucket = only(e, "aws:s3/bucket:Bucket");
                const bucketId = `placeholder-${bucket.name}`;
                expect(bucket.inputs.bucketPrefix).to.equal(`${clusterName()}-assets-`);
                const keyArn = `arn:aws:kms:${config()["aws:region"]}:000000000000:placeholder/${only(e, "aws:kms/key:Key").name}`;
                const sse = only(e, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
                expect(sse.inputs.bucket).to.equal(bucketId);
                expect(sse.inputs.rules).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true }]);
                const versioning = only(e, "aws:s3/bucketVersioning:BucketVersioning");
                expect(versioning.inputs.bucket).to.equal(bucketId);
                expect(versioning.inputs.versioningConfiguration.status).to.equal("Enabled");
                const block = only(e, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
                expect(block.inputs).to.deep.include({ bucket: bucketId, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
                expect(only(e, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule.objectOwnership).to.equal("BucketOwnerEnforced");
            });

            it("denies any request over plain HTTP and writes with another key", () => {
                const e = stacks[env];
                const bucketPolicy = only(e, "aws:s3/bucketPolicy:BucketPolicy");
                const policy = JSON.parse(bucketPolicy.inputs.policy);
                const bucketArn = `arn:aws:s3:${config()["aws:region"]}:000000000000:placeholder/${only(e, "aws:s3/bucket:Bucket").name}`;
                const tls = policy.Statement.find((s: any) => s.Condition?.Bool?.["aws:SecureTransport"] === "false");
                expect(tls).to.deep.include({ Effect: "Deny", Principal: "*", Action: "s3:*" });
                expect(tls.Resource).to.have.members([bucketArn, `${bucketArn}/*`]);
                const keys = policy.Statement.find((s: any) => s.Action === "s3:PutObject");
                expect(keys.Effect).to.equal("Deny");
                expect(policy.Statement.every((s: any) => s.Effect === "Deny"), "the bucket policy grants nothing").to.equal(true);
            });

            it("expires noncurrent versions everywhere and etcd snapshots after the configured retention", () => {
                const rules = only(stacks[env], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules;
                const noncurrent = rules.find((r: any) => r.noncurrentVersionExpiration);
                expect(noncurrent.status).to.equal("Enabled");
                expect(noncurrent.filter.prefix ?? "").to.equal("");
                expect(noncurrent.noncurrentVersionExpiration.noncurrentDays).to.be.within(1, 90);
                expect(noncurrent.abortIncompleteMultipartUpload.daysAfterInitiation).to.be.greaterThan(0);
                const snapshots = rules.find((r: any) => r.filter?.prefix === "backups/etcd/");
                expect(snapshots.status).to.equal("Enabled");
                expect(snapshots.expiration.days).to.equal(Number(config()["kaws:etcdSnapshotRetentionDays"]));
                expect(snapshots.noncurrentVersionExpiration?.noncurrentDays, "an expired snapshot stays a noncurrent version only briefly")
                    .to.be.lessThan(noncurrent.noncurrentVersionExpiration.noncurrentDays);
            });
        });
    }

    describe("kaws render dev (the full program)", () => {
        const rendered = (relative: string) => path.join(renderDir, relative);
        const modeOf = (relative: string) => fs.statSync(rendered(relative)).mode & 0o777;

        it("writes DIR/kubeconfig with mode 0600, pointing at the API endpoint, accepted by kubectl", function () {
            expect(modeOf("kubeconfig")).to.equal(0o600);
            const kubeconfig = parse(fs.readFileSync(rendered("kubeconfig"), "utf8"));
            const plan = JSON.parse(fs.readFileSync(rendered("plan.json"), "utf8"));
            expect(kubeconfig.clusters[0].cluster.server).to.equal(plan.outputs.apiEndpoint);
            expect(Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString()).to.equal(plan.outputs.clusterCaCertificate);
            expect(Buffer.from(kubeconfig.users[0].user["client-key-data"], "base64").toString()).to.include("PRIVATE KEY");
            if (!toolAvailable("kubectl", this)) return;
            const view = JSON.parse(execFileSync("kubectl", ["--kubeconfig", rendered("kubeconfig"), "config", "view", "-o", "json"], { timeout: 10_000 }).toString());
            expect(view.clusters).to.have.length(1);
            expect(view.users).to.have.length(1);
            expect(view.contexts).to.have.length(1);
            expect(view["current-context"]).to.equal(view.contexts[0].name);
        });

        it("exports the contract outputs, redacting exactly those that hold secrets, and no private key anywhere in plan.json", () => {
            const text = fs.readFileSync(rendered("plan.json"), "utf8");
            const outputs = JSON.parse(text).outputs;
            for (const secret of ["kubeconfig", "addonSecrets"]) expect(outputs[secret], secret).to.equal(redacted);
            for (const plain of ["clusterCaCertificate", "kmsKeyArn", "assetsBucket", "addonSettings", "certificateExpiry"]) {
                expect(outputs[plain], plain).to.not.equal(undefined);
                expect(outputs[plain], plain).to.not.equal(redacted);
            }
            expect(outputs.clusterCaCertificate).to.match(/^-----BEGIN CERTIFICATE-----/);
            expect(Object.keys(outputs.certificateExpiry)).to.include.members(["ca", "etcd-ca", "front-proxy-ca", "apiserver", "admin", "etcd-0-server", "etcd-0-peer"]);
            expect(text).to.not.include("PRIVATE KEY");
        });

        it("puts no key material in any user data", () => {
            const userData = fs.readdirSync(renderDir).filter((role) => fs.existsSync(rendered(`${role}/user-data`)));
            expect(userData, "roles with user data").to.not.be.empty;
            for (const role of userData) {
                const text = fs.readFileSync(rendered(`${role}/user-data`), "utf8");
                expect(text, role).to.not.include("PRIVATE KEY");
                expect(text, role).to.not.include("client-key-data");
            }
        });

        it("places the PKI under the role folders that receive it, keys 0600", () => {
            const pki = "controlplane/etc/kubernetes/pki";
            for (const file of ["ca.key", "apiserver.key", "apiserver-kubelet-client.key", "apiserver-etcd-client.key", "front-proxy-client.key", "sa.key"]) {
                expect(modeOf(`${pki}/${file}`), file).to.equal(0o600);
                expect(fs.readFileSync(rendered(`${pki}/${file}`), "utf8"), file).to.match(/^-----BEGIN (EC |RSA )?PRIVATE KEY-----/);
            }
            expect(modeOf("controlplane/etc/kubernetes/encryption-config.yaml")).to.equal(0o600);
            expect(modeOf(`${pki}/apiserver.crt`)).to.equal(0o644);
            for (const file of ["server.key", "peer.key"]) expect(modeOf(`etcd-0/etc/etcd/pki/${file}`), file).to.equal(0o600);
            expect(fs.readFileSync(rendered("etcd-0/etc/etcd/pki/ca.crt"), "utf8")).to.equal(fs.readFileSync(rendered(`${pki}/etcd/ca.crt`), "utf8"));
        });
    });

    describe("node files and secrets (fixture program over the dev configuration)", () => {
        const out = (key: string) => files.outputs[key];

        it("lays out the control-plane PKI the kubeadm way, keys 0600 and secret, certificates 0644", () => {
            const listing = out("files:controlplane").value as { path: string; mode: string; owner: string | null }[];
            const pki = "/etc/kubernetes/pki";
            expect(listing.map((f) => f.path).sort()).to.deep.equal([
                ...["ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key",
                    "apiserver-etcd-client.crt", "apiserver-etcd-client.key", "front-proxy-ca.crt", "front-proxy-client.crt", "front-proxy-client.key",
                    "sa.key", "sa.pub", "etcd/ca.crt"].map((f) => `${pki}/${f}`),
                "/etc/kubernetes/encryption-config.yaml",
            ].sort());
            for (const file of listing) {
                const content = out(`file:controlplane:${file.path}`);
                const isKey = file.path.endsWith(".key") || file.path.endsWith("encryption-config.yaml");
                expect(file.mode, file.path).to.equal(isKey ? "0600" : "0644");
                expect(content.secret, file.path).to.equal(isKey);
                expect(hasPrivateKey(content.value), file.path).to.equal(file.path.endsWith(".key"));
                if (file.path.endsWith(".crt")) expect(content.value, file.path).to.match(/^-----BEGIN CERTIFICATE-----/);
            }
            expect(out(`file:controlplane:${pki}/sa.pub`).value).to.match(/^-----BEGIN PUBLIC KEY-----/);
            expect(out(`file:controlplane:${pki}/etcd/ca.crt`).value).to.equal(out("etcdCaCertPem").value);
            expect(out(`file:controlplane:${pki}/ca.crt`).value).to.equal(out("clusterCaCertPem").value);
        });

        it("gives each etcd member its CA, server and peer certificates, keys 0600 owned by etcd and secret", () => {
            const members = out("etcdMemberPlan").value as { name: string }[];
            expect(members).to.have.length(Number(loadStackConfig(root, "dev")["kaws:etcdMembers"]));
            for (const member of members) {
                const listing = out(`files:${member.name}`).value as { path: string; mode: string; owner: string | null }[];
                expect(listing.map((f) => f.path).sort()).to.deep.equal(["ca.crt", "peer.crt", "peer.key", "server.crt", "server.key"].map((f) => `/etc/etcd/pki/${f}`));
                for (const file of listing) {
                    const isKey = file.path.endsWith(".key");
                    expect({ mode: file.mode, owner: file.owner }, file.path).to.deep.equal(isKey ? { mode: "0600", owner: "etcd:etcd" } : { mode: "0644", owner: null });
                    expect(out(`file:${member.name}:${file.path}`).secret, file.path).to.equal(isKey);
                }
                expect(out(`file:${member.name}:/etc/etcd/pki/ca.crt`).value).to.equal(out("etcdCaCertPem").value);
            }
        });

        it("marks every key-bearing output secret and leaves certificates public", () => {
            for (const key of ["controllerManagerKeyPem", "schedulerKeyPem", "adminKeyPem", "serviceAccountKeyPem", "adminKubeconfig", "encryptionConfig", "weavePassword", "bootstrapTokenSecret"]) {
                expect(out(key).secret, key).to.equal(true);
            }
            for (const key of ["controllerManagerCertPem", "schedulerCertPem", "adminCertPem", "clusterCaCertPem", "etcdCaCertPem", "kmsKeyArn", "assetsBucketName"]) {
                expect(out(key).secret, key).to.equal(false);
            }
            for (const [key, output] of Object.entries(files.outputs)) {
                if (!output.secret) expect(hasPrivateKey(output.value), key).to.equal(false);
            }
        });

        it("renders an EncryptionConfiguration whose first provider is secretbox with a 32-byte key", () => {
            const config = parse(out("encryptionConfig").value as string);
            expect(config.kind).to.equal("EncryptionConfiguration");
            const providers = config.resources[0].providers;
            expect(Object.keys(providers[0])).to.deep.equal(["secretbox"]);
            expect(Buffer.from(providers[0].secretbox.keys[0].secret, "base64")).to.have.length(32);
            expect(Object.keys(providers[providers.length - 1])).to.deep.equal(["identity"]);
        });

        it("draws a weave password of at least 32 characters and a bootstrap token kubelets accept", () => {
            expect(out("weavePassword").value).to.match(/^[A-Za-z0-9]{32,}$/);
            expect(out("bootstrapTokenId").value).to.match(/^[a-z0-9]{6}$/);
            expect(out("bootstrapTokenSecret").value).to.match(/^[a-z0-9]{16}$/);
            expect(`${out("bootstrapTokenId").value}.${out("bootstrapTokenSecret").value}`).to.match(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        });

        it("makes the admin kubeconfig point at the API endpoint over https with the cluster CA", () => {
            const kubeconfig = parse(out("adminKubeconfig").value as string);
            expect(kubeconfig.clusters[0].cluster.server).to.equal(`https://${out("apiDnsName").value}:6443`);
            expect(Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString()).to.equal(out("clusterCaCertPem").value);
            expect(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64").toString()).to.equal(out("adminCertPem").value);
        });
    });
});
