import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderKubeconfig } from "../../nodes/kubeconfig";
import { offlineTlsComputer } from "../../automation/offline/tls";
import { toolAvailable } from "../tools";

async function keyAndSelfSignedCert(commonName: string): Promise<{ certPem: string; keyPem: string }> {
    const key = await offlineTlsComputer("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
    const cert = await offlineTlsComputer("tls:index/selfSignedCert:SelfSignedCert", "c", {
        privateKeyPem: key.privateKeyPem, subject: { commonName }, validityPeriodHours: 24, isCaCertificate: true, allowedUses: ["certSigning"],
    }) as any;
    return { certPem: cert.certPem, keyPem: key.privateKeyPem };
}

describe("render/kubeconfig", () => {
    let ca: { certPem: string; keyPem: string };
    let client: { certPem: string; keyPem: string };
    let text: string;

    before(async () => {
        ca = await keyAndSelfSignedCert("test-ca");
        client = await keyAndSelfSignedCert("test-client");
        text = renderKubeconfig({ clusterName: "demo", server: "https://api.demo.example:6443", caCertPem: ca.certPem, userName: "admin", clientCertPem: client.certPem, clientKeyPem: client.keyPem });
    });

    it("holds one cluster, one user and the context that joins them, selected", () => {
        const config = parse(text);
        expect(config.kind).to.equal("Config");
        expect(config.clusters.map((c: any) => c.name)).to.deep.equal(["demo"]);
        expect(config.clusters[0].cluster.server).to.equal("https://api.demo.example:6443");
        expect(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString()).to.equal(ca.certPem);
        expect(config.users.map((u: any) => u.name)).to.deep.equal(["admin"]);
        expect(Buffer.from(config.users[0].user["client-certificate-data"], "base64").toString()).to.equal(client.certPem);
        expect(Buffer.from(config.users[0].user["client-key-data"], "base64").toString()).to.equal(client.keyPem);
        expect(config.contexts).to.deep.equal([{ name: "admin@demo", context: { cluster: "demo", user: "admin" } }]);
        expect(config["current-context"]).to.equal("admin@demo");
    });

    it("is accepted by kubectl, which sees the cluster, user and current context", function () {
        if (!toolAvailable("kubectl", this)) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-kubeconfig-"));
        try {
            const file = path.join(dir, "kubeconfig");
            fs.writeFileSync(file, text, { mode: 0o600 });
            const view = JSON.parse(execFileSync("kubectl", ["--kubeconfig", file, "config", "view", "--raw", "-o", "json"], { timeout: 10_000 }).toString());
            expect(view["current-context"]).to.equal("admin@demo");
            expect(view.clusters[0].cluster.server).to.equal("https://api.demo.example:6443");
            expect(view.users[0].name).to.equal("admin");
            const current = execFileSync("kubectl", ["--kubeconfig", file, "config", "current-context"], { timeout: 10_000 }).toString().trim();
            expect(current).to.equal("admin@demo");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a server that is not an https URL and PEMs of the wrong kind", () => {
        const base = { clusterName: "demo", server: "https://api:6443", caCertPem: ca.certPem, userName: "admin", clientCertPem: client.certPem, clientKeyPem: client.keyPem };
        expect(() => renderKubeconfig({ ...base, server: "http://api:6443" })).to.throw(/server must be an https URL/);
        expect(() => renderKubeconfig({ ...base, server: "https://api:6443/path" })).to.throw(/server/);
        expect(() => renderKubeconfig({ ...base, clientKeyPem: client.certPem })).to.throw(/clientKeyPem/);
        expect(() => renderKubeconfig({ ...base, caCertPem: "" })).to.throw(/caCertPem/);
    });
});
