import "reflect-metadata"; // @peculiar/x509 needs the reflect polyfill before it loads
import { expect } from "chai";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as x509 from "@peculiar/x509";
import { Evaluation } from "../../automation/offline/engine";
import { offlineTlsComputer } from "../../automation/offline/tls";
import { loadStackConfig } from "../../automation/stackConfig";
import { renderKubeconfig } from "../../nodes/kubeconfig";
import { evaluate, ofType, root } from "../harness";
import { toolAvailable } from "../tools";

const program = "test/fixtures/encryptionProgram.ts";
const env = "prod";
const config = loadStackConfig(root, env);
const setting = (key: string) => config[`kaws:${key}`];

function openssl(args: string[]): { ok: boolean; out: string } {
    const run = spawnSync("openssl", args, { timeout: 10_000, encoding: "utf8" });
    return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

interface CertText {
    subject: Record<string, string>;
    extensions: Record<string, { critical: boolean; value: string }>;
}

/** Subject and X.509v3 extensions as `openssl x509 -text` shows them. */
function describe509(file: string): CertText {
    const { ok, out } = openssl(["x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253", "-ext", "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints"]);
    if (!ok) throw new Error(`openssl could not read ${file}: ${out}`);
    const lines = out.split("\n");
    const subjectLine = lines.find((l) => l.startsWith("subject="))!.slice("subject=".length);
    const subject = Object.fromEntries(subjectLine.split(",").map((part) => part.split("=") as [string, string]));
    const extensions: CertText["extensions"] = {};
    lines.forEach((line, i) => {
        const header = /^X509v3 (.+?):\s*(critical)?\s*$/.exec(line.trim());
        if (header) extensions[header[1]] = { critical: header[2] === "critical", value: (lines[i + 1] ?? "").trim() };
    });
    return { subject, extensions };
}

const list = (text: string | undefined) => (text ?? "").split(",").map((s) => s.trim()).filter(Boolean).sort();

interface LeafExpectation {
    readonly name: string;
    readonly file: string;
    readonly ca: "cluster" | "etcd" | "front-proxy";
    readonly subject: Record<string, string>;
    readonly extendedUsage: string[];
    readonly sans?: string[];
    readonly purpose: "sslserver" | "sslclient";
}

const server = "TLS Web Server Authentication";
const client = "TLS Web Client Authentication";

describe("pki (real certificates, checked with openssl and kubectl)", function () {
    let evaluation: Evaluation;
    let dir: string;
    let leaves: LeafExpectation[];
    const out = (key: string) => {
        const value = evaluation.outputs[key]?.value;
        if (typeof value !== "string") throw new Error(`output ${key} missing`);
        return value;
    };
    const write = (name: string, content: string) => {
        const file = path.join(dir, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode: 0o600 });
        return file;
    };
    const caFile = (ca: LeafExpectation["ca"]) => path.join(dir, `${ca}-ca.crt`);

    before(async () => {
        evaluation = await evaluate(env, {}, program);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-pki-"));
        const cp = (p: string) => out(`file:controlplane:/etc/kubernetes/pki/${p}`);
        write("cluster-ca.crt", cp("ca.crt"));
        write("etcd-ca.crt", out("etcdCaCertPem"));
        write("front-proxy-ca.crt", cp("front-proxy-ca.crt"));
        for (const name of ["apiserver", "apiserver-kubelet-client", "apiserver-etcd-client", "front-proxy-client"]) write(`${name}.crt`, cp(`${name}.crt`));
        write("controller-manager.crt", out("controllerManagerCertPem"));
        write("scheduler.crt", out("schedulerCertPem"));
        write("admin.crt", out("adminCertPem"));
        const apiDnsName = out("apiDnsName");
        // The nodes' name for the API lives in the cluster's private zone, beside the etcd member names.
        const privateZone = (evaluation.outputs.etcdMemberPlan.value as { dnsName: string }[])[0].dnsName.replace(/^etcd-0\./, "");
        const serviceIp = "10.96.0.1";
        expect(setting("serviceCidr") ?? "10.96.0.0/12", "the SAN below assumes the default service range").to.equal("10.96.0.0/12");
        const domain = setting("clusterDomain");
        leaves = [
            { name: "apiserver", file: "apiserver.crt", ca: "cluster", subject: { CN: "kube-apiserver" }, extendedUsage: [server], purpose: "sslserver",
                sans: [`DNS:${apiDnsName}`, `DNS:control-plane.${privateZone}`, "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", `DNS:kubernetes.default.svc.${domain}`, `IP Address:${serviceIp}`, "IP Address:127.0.0.1"] },
            { name: "apiserver-kubelet-client", file: "apiserver-kubelet-client.crt", ca: "cluster", subject: { CN: "kube-apiserver-kubelet-client" }, extendedUsage: [client], purpose: "sslclient" },
            { name: "apiserver-etcd-client", file: "apiserver-etcd-client.crt", ca: "etcd", subject: { CN: "kube-apiserver-etcd-client" }, extendedUsage: [client], purpose: "sslclient" },
            { name: "front-proxy-client", file: "front-proxy-client.crt", ca: "front-proxy", subject: { CN: "front-proxy-client" }, extendedUsage: [client], purpose: "sslclient" },
            { name: "controller-manager", file: "controller-manager.crt", ca: "cluster", subject: { CN: "system:kube-controller-manager" }, extendedUsage: [client], purpose: "sslclient" },
            { name: "scheduler", file: "scheduler.crt", ca: "cluster", subject: { CN: "system:kube-scheduler" }, extendedUsage: [client], purpose: "sslclient" },
            { name: "admin", file: "admin.crt", ca: "cluster", subject: { CN: "kaws-admin", O: "system:masters" }, extendedUsage: [client], purpose: "sslclient" },
        ];
        const members = evaluation.outputs.etcdMemberPlan.value as { name: string; ip: string; dnsName: string }[];
        expect(members).to.have.length(Number(setting("etcdMembers") ?? 3));
        for (const member of members) {
            for (const kind of ["server", "peer"]) {
                const file = write(`${member.name}-${kind}.crt`, out(`file:${member.name}:/etc/etcd/pki/${kind}.crt`));
                leaves.push({
                    name: `${member.name}-${kind}`, file: path.basename(file), ca: "etcd", subject: { CN: member.name }, extendedUsage: [server, client], purpose: "sslserver",
                    sans: [`DNS:${member.dnsName}`, "DNS:localhost", `IP Address:${member.ip}`, "IP Address:127.0.0.1"],
                });
            }
        }
    });

    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    it("verifies every leaf against its own CA, for its purpose, and against no other CA", function () {
        if (!toolAvailable("openssl", this)) return;
        expect(leaves.length).to.equal(7 + 2 * Number(setting("etcdMembers") ?? 3));
        for (const leaf of leaves) {
            const file = path.join(dir, leaf.file);
            const own = openssl(["verify", "-purpose", leaf.purpose, "-CAfile", caFile(leaf.ca), file]);
            expect(own.ok, `${leaf.name} against ${leaf.ca} CA: ${own.out}`).to.equal(true);
            for (const other of (["cluster", "etcd", "front-proxy"] as const).filter((ca) => ca !== leaf.ca)) {
                expect(openssl(["verify", "-CAfile", caFile(other), file]).ok, `${leaf.name} must not verify against the ${other} CA`).to.equal(false);
            }
        }
    });

    it("gives each CA CA:TRUE and only signing usages, and keeps the three CAs distinct", function () {
        if (!toolAvailable("openssl", this)) return;
        const subjects = new Set<string>();
        for (const ca of ["cluster", "etcd", "front-proxy"] as const) {
            const text = describe509(caFile(ca));
            expect(text.extensions["Basic Constraints"]).to.deep.equal({ critical: true, value: "CA:TRUE" });
            expect(list(text.extensions["Key Usage"].value)).to.deep.equal(["CRL Sign", "Certificate Sign", "Digital Signature"]);
            expect(text.extensions["Extended Key Usage"]).to.equal(undefined);
            subjects.add(text.subject.CN);
            expect(openssl(["verify", "-CAfile", caFile(ca), caFile(ca)]).ok).to.equal(true);
        }
        expect(subjects.size).to.equal(3);
    });

    it("gives every leaf exactly the subject, SANs, key usage and extended key usage its role needs", function () {
        if (!toolAvailable("openssl", this)) return;
        for (const leaf of leaves) {
            const text = describe509(path.join(dir, leaf.file));
            expect(text.subject, leaf.name).to.deep.equal(leaf.subject);
            expect(text.extensions["Basic Constraints"], leaf.name).to.deep.equal({ critical: true, value: "CA:FALSE" });
            // ECDSA keys (the default) sign; keyEncipherment is only for RSA key transport.
            expect(list(text.extensions["Key Usage"]?.value), leaf.name).to.deep.equal(["Digital Signature"]);
            expect(list(text.extensions["Extended Key Usage"]?.value), leaf.name).to.deep.equal([...leaf.extendedUsage].sort());
            expect(list(text.extensions["Subject Alternative Name"]?.value), leaf.name).to.deep.equal([...(leaf.sans ?? [])].sort());
        }
    });

    it("exports every certificate's expiry, matching the certificates and the configured lifetimes", () => {
        const expiry = evaluation.outputs.certificateExpiry.value as Record<string, string>;
        const certResources = [...ofType(evaluation, "tls:index/selfSignedCert:SelfSignedCert"), ...ofType(evaluation, "tls:index/locallySignedCert:LocallySignedCert")];
        expect(Object.keys(expiry)).to.have.length(certResources.length);
        const pemOf: Record<string, string> = {
            ca: "cluster-ca.crt", "etcd-ca": "etcd-ca.crt", "front-proxy-ca": "front-proxy-ca.crt",
            ...Object.fromEntries(leaves.map((l) => [l.name, l.file])),
        };
        expect(Object.keys(expiry).sort()).to.deep.equal(Object.keys(pemOf).sort());
        for (const [name, file] of Object.entries(pemOf)) {
            const cert = new x509.X509Certificate(fs.readFileSync(path.join(dir, file), "utf8"));
            expect(new Date(expiry[name]).getTime(), name).to.equal(cert.notAfter.getTime());
            const hours = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 3600_000;
            expect(hours, name).to.equal(Number(name.endsWith("ca") ? setting("caValidityHours") : setting("leafValidityHours")));
        }
        for (const cert of ofType(evaluation, "tls:index/locallySignedCert:LocallySignedCert")) {
            expect(cert.inputs.earlyRenewalHours, cert.name).to.equal(Number(setting("certEarlyRenewalHours")));
        }
    });

    it("lets kubectl with the rendered admin kubeconfig reach a server presenting the apiserver certificate on 127.0.0.1", async function () {
        if (!toolAvailable("kubectl", this)) return;
        const cp = (p: string) => out(`file:controlplane:/etc/kubernetes/pki/${p}`);
        const kubeconfig = parse(out("adminKubeconfig"));
        await withMutualTlsServer({ cert: cp("apiserver.crt"), key: cp("apiserver.key"), ca: cp("ca.crt") }, async (port, hits, rejected) => {
            kubeconfig.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
            const result = await kubectl(write("kubeconfig-ok", stringify(kubeconfig)), ["get", "--raw", "/readyz"]);
            expect(result.code, result.output).to.equal(0);
            expect(result.output.trim()).to.equal("ok");
            expect(hits()).to.not.be.empty;
            expect(new Set(hits())).to.deep.equal(new Set(["CN=kaws-admin"]));
            expect(rejected()).to.equal(0);
        });
    });

    it("refuses a client certificate from a foreign CA", async function () {
        if (!toolAvailable("kubectl", this)) return;
        const cp = (p: string) => out(`file:controlplane:/etc/kubernetes/pki/${p}`);
        const foreign = await issueFromNewCa("foreign-admin");
        await withMutualTlsServer({ cert: cp("apiserver.crt"), key: cp("apiserver.key"), ca: cp("ca.crt") }, async (port, hits, rejected) => {
            const file = write("kubeconfig-foreign", renderKubeconfig({
                clusterName: "foreign", server: `https://127.0.0.1:${port}`, caCertPem: cp("ca.crt"), userName: "foreign", clientCertPem: foreign.certPem, clientKeyPem: foreign.keyPem,
            }));
            const result = await kubectl(file, ["get", "--raw", "/readyz"]);
            expect(result.code, result.output).to.not.equal(0);
            expect(result.output).to.match(/Unauthorized/);
            expect(hits()).to.deep.equal([]);
            expect(rejected()).to.be.greaterThan(0);
        });
    });

    it("makes kubectl refuse a server certificate from the cluster CA that lacks the 127.0.0.1 SAN", async function () {
        if (!toolAvailable("kubectl", this)) return;
        const cp = (p: string) => out(`file:controlplane:/etc/kubernetes/pki/${p}`);
        const wrong = await issueFromCa({ certPem: cp("ca.crt"), keyPem: cp("ca.key") }, "kube-apiserver", ["somewhere-else.example"], ["serverAuth", "digitalSignature"]);
        const kubeconfig = parse(out("adminKubeconfig"));
        await withMutualTlsServer({ cert: wrong.certPem, key: wrong.keyPem, ca: cp("ca.crt") }, async (port, hits, rejected) => {
            kubeconfig.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
            const result = await kubectl(write("kubeconfig-wrong-san", stringify(kubeconfig)), ["get", "--raw", "/readyz"]);
            expect(result.code, result.output).to.not.equal(0);
            expect(result.output).to.match(/127\.0\.0\.1/);
            expect(hits()).to.deep.equal([]);
            expect(rejected(), "kubectl must not even send the request").to.equal(0);
        });
    });

    describe("rotation", () => {
        const tlsTypes = ["tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert"];
        let leafBump: Evaluation;
        let caBumpRsa: Evaluation;

        before(async () => {
            leafBump = await evaluate(env, { leafCertGeneration: Number(setting("leafCertGeneration")) + 1 }, program);
            caBumpRsa = await evaluate(env, { caGeneration: Number(setting("caGeneration")) + 1, pkiKeyAlgorithm: "RSA-2048" }, program);
        });

        /** CA material: self-signed certificates, their keys and the service-account key; everything else in tls is a leaf. */
        function classify(e: Evaluation): { ca: Map<string, unknown>; leaf: Map<string, unknown> } {
            const caCerts = ofType(e, "tls:index/selfSignedCert:SelfSignedCert").map((r) => r.name);
            const caNames = new Set([...caCerts, ...caCerts.map((n) => n.replace(/-cert$/, "-key")), ...ofType(e, "tls:index/privateKey:PrivateKey").filter((r) => /service-account/.test(r.name)).map((r) => r.name)]);
            const ca = new Map<string, unknown>();
            const leaf = new Map<string, unknown>();
            for (const r of e.resources.filter((r) => tlsTypes.includes(r.type))) {
                expect(r.replacementTrigger, `${r.name} has no replacement trigger`).to.not.equal(undefined);
                (caNames.has(r.name) ? ca : leaf).set(`${r.type}::${r.name}`, r.replacementTrigger);
            }
            return { ca, leaf };
        }

        it("bumping leafCertGeneration replaces every leaf key, request and certificate and no CA", () => {
            const before = classify(evaluation);
            const after = classify(leafBump);
            expect(before.ca.size).to.equal(3 * 2 + 1);
            expect(before.leaf.size).to.equal(leaves.length * 3);
            expect([...after.ca.keys()].sort()).to.deep.equal([...before.ca.keys()].sort());
            expect([...after.leaf.keys()].sort()).to.deep.equal([...before.leaf.keys()].sort());
            for (const [key, trigger] of before.ca) expect(after.ca.get(key), key).to.deep.equal(trigger);
            for (const [key, trigger] of before.leaf) expect(after.leaf.get(key), key).to.not.deep.equal(trigger);
        });

        it("bumping caGeneration replaces every CA, the service-account key and every leaf", () => {
            const before = classify(evaluation);
            const after = classify(caBumpRsa);
            for (const side of ["ca", "leaf"] as const) {
                expect([...after[side].keys()].sort()).to.deep.equal([...before[side].keys()].sort());
                for (const [key, trigger] of before[side]) expect(after[side].get(key), key).to.not.deep.equal(trigger);
            }
        });

        it("rotating certificates leaves the secretbox key, weave password and bootstrap token alone", () => {
            for (const e of [evaluation, leafBump, caBumpRsa]) {
                for (const r of e.resources.filter((r) => r.type.startsWith("random:"))) expect(r.replacementTrigger, r.name).to.equal(undefined);
            }
        });

        it("honours pkiKeyAlgorithm: RSA-2048 keys, with keyEncipherment, still verifying", function () {
            if (!toolAvailable("openssl", this)) return;
            const pem = caBumpRsa.outputs["file:controlplane:/etc/kubernetes/pki/apiserver.crt"].value as string;
            const ca = caBumpRsa.outputs["file:controlplane:/etc/kubernetes/pki/ca.crt"].value as string;
            const leafFile = write("rsa/apiserver.crt", pem);
            const caPath = write("rsa/ca.crt", ca);
            const text = openssl(["x509", "-in", leafFile, "-noout", "-text"]).out;
            expect(text).to.match(/Public Key Algorithm: rsaEncryption/);
            expect(text).to.match(/Public-Key: \(2048 bit\)/);
            expect(list(describe509(leafFile).extensions["Key Usage"].value)).to.deep.equal(["Digital Signature", "Key Encipherment"]);
            expect(openssl(["verify", "-purpose", "sslserver", "-CAfile", caPath, leafFile]).ok).to.equal(true);
            expect(openssl(["verify", "-CAfile", caFile("cluster"), leafFile]).ok, "the old CA must not verify a leaf of the new one").to.equal(false);
        });
    });
});

async function issueFromNewCa(commonName: string): Promise<{ certPem: string; keyPem: string }> {
    const caKey = await offlineTlsComputer("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
    const ca = await offlineTlsComputer("tls:index/selfSignedCert:SelfSignedCert", "c", {
        privateKeyPem: caKey.privateKeyPem, subject: { commonName: "foreign CA" }, isCaCertificate: true, validityPeriodHours: 24, allowedUses: ["certSigning", "digitalSignature"],
    }) as any;
    return issueFromCa({ certPem: ca.certPem, keyPem: caKey.privateKeyPem }, commonName, [], ["clientAuth", "digitalSignature"]);
}

async function issueFromCa(ca: { certPem: string; keyPem: string }, commonName: string, dnsNames: string[], uses: string[]): Promise<{ certPem: string; keyPem: string }> {
    const key = await offlineTlsComputer("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
    const csr = await offlineTlsComputer("tls:index/certRequest:CertRequest", "r", { privateKeyPem: key.privateKeyPem, subject: { commonName }, dnsNames }) as any;
    const cert = await offlineTlsComputer("tls:index/locallySignedCert:LocallySignedCert", "c", {
        certRequestPem: csr.certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: ca.keyPem, validityPeriodHours: 24, allowedUses: uses,
    }) as any;
    return { certPem: cert.certPem, keyPem: key.privateKeyPem };
}

/**
 * An HTTPS server on 127.0.0.1 that authenticates clients as kube-apiserver does: a client certificate that
 * does not chain to `ca` gets 401 Unauthorized; an authenticated one gets "ok" on /readyz. Always closed.
 */
async function withMutualTlsServer(tls: { cert: string; key: string; ca: string }, body: (port: number, authenticated: () => string[], rejected: () => number) => Promise<void>): Promise<void> {
    const authenticated: string[] = [];
    let rejected = 0;
    const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const socket = req.socket as import("tls").TLSSocket;
        if (!socket.authorized) {
            rejected++;
            res.writeHead(401, { "content-type": "application/json" });
            res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }));
            return;
        }
        authenticated.push(`CN=${socket.getPeerCertificate().subject?.CN}`);
        const ready = new URL(req.url ?? "/", "https://127.0.0.1").pathname === "/readyz";
        res.writeHead(ready ? 200 : 404, { "content-type": "text/plain" });
        res.end(ready ? "ok" : "not found");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const timer = setTimeout(() => server.closeAllConnections(), 20_000);
    try {
        await body((server.address() as net.AddressInfo).port, () => [...authenticated], () => rejected);
    } finally {
        clearTimeout(timer);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }
}

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        execFile("kubectl", ["--kubeconfig", kubeconfig, "--request-timeout=5s", ...args], { timeout: 15_000 }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` });
        });
    });
}
