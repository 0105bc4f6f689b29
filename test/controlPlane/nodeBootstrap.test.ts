import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Evaluation } from "../../automation/offline/engine";
import {
    bootstrapGroup, nodeBootstrapFieldManager, renderNodeBootstrapObjects, renderNodeBootstrapScript, renderNodeBootstrapTimer, renderNodeBootstrapUnit,
} from "../../controlPlane/nodeBootstrap";
import { controlPlaneBootSteps } from "../../controlPlane/markControlPlane";
import { bootstrapTokenOf, evaluate, ofType, roleFiles } from "../harness";
import { validateKubernetesObject } from "../k8sSchema";
import { installKubeAdmin, withHeaderValues } from "../shellHeader";
import { verifyUnits } from "../systemdVerify";
import { toolAvailable } from "../tools";

const objectsPath = "/etc/kubernetes/node-bootstrap.yaml";

/**
 * What kubelet TLS bootstrapping needs, as kubeadm sets it up (kubernetes/kubernetes
 * cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go: AllowBootstrapTokensToPostCSRs,
 * AutoApproveNodeBootstrapTokens, AutoApproveNodeCertificateRotation), with kaws's token group; plus the
 * binding that lets the apiserver's kubelet client (not system:masters) use the kubelet API (logs, exec).
 */
const expectedBindings = [
    { role: "system:node-bootstrapper", subjects: [{ kind: "Group", name: bootstrapGroup }] },
    { role: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", subjects: [{ kind: "Group", name: bootstrapGroup }] },
    { role: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", subjects: [{ kind: "Group", name: "system:nodes" }] },
    { role: "system:kubelet-api-admin", subjects: [{ kind: "User", name: "kube-apiserver-kubelet-client" }] },
];

describe("node bootstrap objects, applied by the control-plane nodes (controlPlane/nodeBootstrap.ts)", function () {
    this.timeout(120_000);
    let ev: Evaluation;
    let objects: any[];
    before(async () => {
        ev = await evaluate("dev");
        objects = YAML.parseAllDocuments(roleFiles(ev, "controlplane").get(objectsPath)!.content).map((d) => d.toJSON());
    });

    it("validate against the Kubernetes schemas", () => {
        expect(objects.map((o) => o.kind)).to.deep.equal(["Secret", "ClusterRoleBinding", "ClusterRoleBinding", "ClusterRoleBinding", "ClusterRoleBinding"]);
        expect(objects.flatMap((o) => validateKubernetesObject(o).map((e) => `${o.kind}/${o.metadata.name}: ${e}`))).to.deep.equal([]);
    });

    it("hold the token the kubelets' bootstrap kubeconfig presents, usable for authentication into the bound group", () => {
        const token = bootstrapTokenOf(ev);
        const secret = objects.find((o) => o.kind === "Secret");
        expect(secret.metadata).to.deep.equal({ name: `bootstrap-token-${token.id}`, namespace: "kube-system" });
        expect(secret.type).to.equal("bootstrap.kubernetes.io/token");
        const data = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
        expect(data).to.include({ "token-id": token.id, "token-secret": token.secret, "usage-bootstrap-authentication": "true", "auth-extra-groups": bootstrapGroup });
        const workerToken = YAML.parse(roleFiles(ev, "worker-general").get("/etc/kubernetes/bootstrap-kubelet.conf")!.content).users[0].user.token;
        expect(workerToken).to.equal(`${token.id}.${token.secret}`);
    });

    it("grant exactly what kubelet TLS bootstrapping needs (kubeadm's three bindings) and the apiserver's kubelet access, nothing else", () => {
        const bindings = objects.filter((o) => o.kind === "ClusterRoleBinding").map((o) => ({
            role: o.roleRef.kind === "ClusterRole" ? o.roleRef.name : `${o.roleRef.kind}/${o.roleRef.name}`,
            subjects: o.subjects.map((s: any) => ({ kind: s.kind, name: s.name })),
        }));
        expect(bindings).to.have.deep.members(expectedBindings);
        expect(bindings).to.have.length(expectedBindings.length);
    });

    it("reach only the control plane, root-only and as a secret in its encrypted files", () => {
        expect(roleFiles(ev, "controlplane").get(objectsPath)!.mode).to.equal("0600");
        expect(roleFiles(ev, "worker-general").has(objectsPath)).to.equal(false);
        const stored = ofType(ev, "aws:s3/bucketObjectv2:BucketObjectv2").find((o) => String(o.inputs.key).endsWith(objectsPath))!;
        expect(String(stored.inputs.key)).to.match(/^nodes\/controlplane\//);
        expect(stored.inputs.content).to.be.an("object").with.property("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270");
        expect(stored.inputs.serverSideEncryption).to.equal("aws:kms");
    });

    it("refuse a malformed token", () => {
        expect(() => renderNodeBootstrapObjects({ id: "ABCDEF", secret: "0123456789abcdef" })).to.throw(/bootstrap token/);
    });

    it("are applied at boot once kubelet runs, and again by a timer (the boot starts both, before the labeller)", function () {
        const steps = controlPlaneBootSteps.startAfterKubelet;
        const at = steps.indexOf("kaws-node-bootstrap.service");
        expect(steps.slice(at, at + 3)).to.deep.equal(["kaws-node-bootstrap.service", "kaws-node-bootstrap.timer", "kaws-mark-control-plane.service"]);
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        expect(verifyUnits({ "kaws-node-bootstrap.service": renderNodeBootstrapUnit(), "kaws-node-bootstrap.timer": renderNodeBootstrapTimer() })).to.deep.equal([]);
    });

    it("the rendered script passes shellcheck", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-node-bootstrap-sc-"));
        try {
            fs.writeFileSync(`${dir}/script.sh`, renderNodeBootstrapScript());
            const check = spawnSync("shellcheck", ["-s", "bash", "-S", "style", `${dir}/script.sh`], { encoding: "utf8" });
            expect(check.stdout + check.stderr).to.equal("");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    /**
     * The rendered script run for real (openssl, kubectl) against a fake API server on 127.0.0.1 that trusts
     * a cluster CA made here: answers /readyz only on the third try, serves discovery, records every request.
     */
    describe("the script, run with real openssl and kubectl against a fake API server", () => {
        interface Seen { method: string; url: string; contentType: string; body: string; client: string }

        function openssl(dir: string, args: string[]) {
            const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
        }

        function discovery(url: string): unknown {
            const resource = (name: string, kind: string, namespaced: boolean) => ({ name, singularName: "", namespaced, kind, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] });
            if (url === "/api") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] };
            if (url === "/apis") return { kind: "APIGroupList", apiVersion: "v1", groups: [{ name: "rbac.authorization.k8s.io", versions: [{ groupVersion: "rbac.authorization.k8s.io/v1", version: "v1" }], preferredVersion: { groupVersion: "rbac.authorization.k8s.io/v1", version: "v1" } }] };
            if (url === "/api/v1") return { kind: "APIResourceList", groupVersion: "v1", resources: [resource("secrets", "Secret", true)] };
            if (url === "/apis/rbac.authorization.k8s.io/v1") return { kind: "APIResourceList", apiVersion: "v1", groupVersion: "rbac.authorization.k8s.io/v1", resources: [resource("clusterrolebindings", "ClusterRoleBinding", false)] };
            // OpenAPI v3, as far as kubectl reads it to learn that PATCH takes fieldValidation (server-side validation).
            if (url === "/openapi/v3") return { paths: { "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=1" }, "apis/rbac.authorization.k8s.io/v1": { serverRelativeURL: "/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=1" } } };
            const patchPath = (group: string, version: string, kind: string) => ({
                patch: { "x-kubernetes-group-version-kind": { group, version, kind }, parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string" } }], responses: {} },
            });
            if (url === "/openapi/v3/api/v1") return { openapi: "3.0.0", info: { title: "fake", version: "v1" }, paths: { "/api/v1/namespaces/{namespace}/secrets/{name}": patchPath("", "v1", "Secret") } };
            if (url === "/openapi/v3/apis/rbac.authorization.k8s.io/v1") {
                return { openapi: "3.0.0", info: { title: "fake", version: "v1" }, paths: { "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}": patchPath("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") } };
            }
            return undefined;
        }

        /** Objects the fake server already holds: creating them answers 409 AlreadyExists, as the API server does. */
        const existing = new Set(["weave-passwd"]);
        const criticalAddons = [
            { apiVersion: "v1", kind: "Secret", metadata: { name: "weave-passwd", namespace: "kube-system" }, stringData: { "weave-passwd": "x" } },
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "weave-net" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "weave-net" }, subjects: [{ kind: "ServiceAccount", name: "weave-net", namespace: "kube-system" }] },
        ];

        /** Runs the rendered script against the fake API server; `refuseCreate` makes every create of a new object fail with 403. */
        async function runScript(token: { id: string; secret: string }, refuseCreate: boolean) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-node-bootstrap-"));
            try {
                openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
                openssl(dir, ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=kubernetes", "-days", "1", "-out", "ca.crt"]);
                openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
                openssl(dir, ["req", "-new", "-key", "server.key", "-subj", "/CN=kube-apiserver", "-out", "server.csr"]);
                fs.writeFileSync(`${dir}/san.ext`, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
                openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt"]);
                fs.writeFileSync(`${dir}/objects.yaml`, renderNodeBootstrapObjects(token));
                fs.writeFileSync(`${dir}/addons.yaml`, criticalAddons.map((o) => YAML.stringify(o)).join("---\n"));

                const seen: Seen[] = [];
                let readyAsked = 0;
                const ca = fs.readFileSync(`${dir}/ca.crt`, "utf8");
                const server = https.createServer({ cert: fs.readFileSync(`${dir}/server.crt`), key: fs.readFileSync(`${dir}/server.key`), ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
                    let body = "";
                    req.on("data", (chunk) => { body += chunk; });
                    req.on("end", () => {
                        const peer = (req.socket as import("tls").TLSSocket).getPeerCertificate();
                        const url = req.url ?? "";
                        seen.push({ method: req.method ?? "", url, contentType: String(req.headers["content-type"] ?? ""), body, client: `${peer.subject?.O}/${peer.subject?.CN}` });
                        const json = (status: number, value: unknown) => { res.writeHead(status, { "Content-Type": "application/json" }); res.end(JSON.stringify(value)); };
                        if (url.startsWith("/readyz")) {
                            readyAsked++;
                            res.writeHead(readyAsked < 3 ? 500 : 200, { "Content-Type": "text/plain" });
                            res.end(readyAsked < 3 ? "[-]etcd failed" : "ok");
                            return;
                        }
                        if (req.method === "PATCH") {
                            const obj = YAML.parse(body);
                            json(200, { ...obj, metadata: { ...obj.metadata, uid: "00000000-0000-0000-0000-000000000000", resourceVersion: "1" } });
                            return;
                        }
                        if (req.method === "POST") {
                            const obj = JSON.parse(body);
                            const name = obj.metadata.name;
                            if (existing.has(name)) json(409, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "AlreadyExists", code: 409, message: `${obj.kind.toLowerCase()}s "${name}" already exists`, details: { name, kind: `${obj.kind.toLowerCase()}s` } });
                            else if (refuseCreate) json(403, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403, message: `forbidden: ${name}` });
                            else json(201, { ...obj, metadata: { ...obj.metadata, uid: "00000000-0000-0000-0000-000000000001", resourceVersion: "1" } });
                            return;
                        }
                        const found = discovery(url.split("?")[0]);
                        if (found) json(200, found);
                        else json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `not found: ${url}` });
                    });
                });
                await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
                const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
                try {
                    const script = withHeaderValues(renderNodeBootstrapScript(), {
                        KAWS_KUBE_ADMIN: installKubeAdmin(dir, { caCert: `${dir}/ca.crt`, caKey: `${dir}/ca.key`, apiServer: endpoint }),
                        KAWS_OBJECTS: `${dir}/objects.yaml`, KAWS_NODE_CRITICAL_ADDONS: `${dir}/addons.yaml`,
                    });
                    fs.writeFileSync(`${dir}/run.sh`, script);
                    const result = await new Promise<{ status: number | null; output: string }>((resolve) => {
                        const child = spawn("bash", [`${dir}/run.sh`], { env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir } });
                        let output = "";
                        child.stdout.on("data", (d) => { output += d; });
                        child.stderr.on("data", (d) => { output += d; });
                        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
                        child.on("close", (status) => { clearTimeout(timer); resolve({ status, output }); });
                    });
                    return { result, seen, readyAsked, endpoint, leftovers: fs.readdirSync(dir).filter((f) => f.startsWith("tmp.")) };
                } finally {
                    await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections?.(); });
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }

        it("waits for /readyz, server-side applies every bootstrap object under one field manager, then creates the missing node-critical add-ons, as a throwaway system:masters client", async function () {
            if (!toolAvailable("kubectl", this, ["version", "--client"]) || !toolAvailable("openssl", this, ["version"])) return;
            const token = { id: "abcdef", secret: "0123456789abcdef" };
            const { result, seen, readyAsked, endpoint, leftovers } = await runScript(token, false);
            expect(result.status, result.output).to.equal(0);

            expect(readyAsked, "polled /readyz until it answered").to.equal(3);
            const patches = seen.filter((s) => s.method === "PATCH");
            const firstPatch = seen.indexOf(patches[0]);
            expect(seen.slice(0, firstPatch).filter((s) => s.url.startsWith("/readyz")).length, "no apply before /readyz answered").to.equal(3);
            expect(patches.map((p) => p.url.split("?")[0])).to.have.members([
                "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kaws:kubelet-bootstrap",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kaws:node-autoapprove-bootstrap",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kaws:node-autoapprove-certificate-rotation",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kaws:apiserver-kubelet-api-admin",
            ]);
            for (const p of patches) {
                const query = new URL(p.url, endpoint).searchParams;
                expect(p.contentType, p.url).to.equal("application/apply-patch+yaml");
                expect({ fieldManager: query.get("fieldManager"), force: query.get("force"), fieldValidation: query.get("fieldValidation") }, p.url)
                    .to.deep.equal({ fieldManager: nodeBootstrapFieldManager, force: "true", fieldValidation: "Strict" });
            }
            expect(JSON.parse(patches.find((p) => p.url.includes("/secrets/"))!.body).data["token-secret"]).to.equal(Buffer.from(token.secret).toString("base64"));
            // The add-ons: a create (never an apply or update) of each, after the bootstrap objects; the one that exists is left as it is.
            const creates = seen.filter((s) => s.method === "POST");
            expect(creates.map((c) => c.url.split("?")[0])).to.deep.equal(["/api/v1/namespaces/kube-system/secrets", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"]);
            expect(seen.indexOf(creates[0])).to.be.greaterThan(seen.indexOf(patches[patches.length - 1]));
            expect(seen.filter((s) => s.method === "PUT" || (s.method === "PATCH" && /weave/.test(s.url)))).to.deep.equal([]);
            expect([...new Set(seen.map((s) => s.client))]).to.deep.equal(["system:masters/kaws:node-bootstrap"]);
            expect(leftovers, "the throwaway key is deleted").to.deep.equal([]);
        });

        it("fails when creating a node-critical add-on fails for any reason but AlreadyExists", async function () {
            if (!toolAvailable("kubectl", this, ["version", "--client"]) || !toolAvailable("openssl", this, ["version"])) return;
            const { result } = await runScript({ id: "abcdef", secret: "0123456789abcdef" }, true);
            expect(result.status, result.output).to.equal(1);
            expect(result.output).to.contain("creating the node-critical add-ons failed").and.to.contain("Forbidden");
        });
    });
});
