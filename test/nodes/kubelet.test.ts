import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import {
    kubeletConfiguration, nodeLabelsFlag, renderBootstrapKubeconfig, renderCredentialProviderConfig, renderKubeletConfiguration, renderKubeletService,
} from "../../nodes/kubelet";
import { configProblems } from "../upstream";
import { toolAvailable } from "../tools";
import { verifyUnits } from "../systemdVerify";

const spec = { clusterDnsIp: "10.96.0.10", clusterDomain: "cluster.local", registerWithTaints: [{ key: "kaws.io/system", value: "true", effect: "NoSchedule" as const }, { key: "dedicated", effect: "NoExecute" as const }] };
const ca = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n";

describe("nodes/kubelet", () => {
    it("renders a KubeletConfiguration whose every field is a KubeletConfiguration v1beta1 field upstream (taints: core/v1 Taint)", () => {
        const rendered = parse(renderKubeletConfiguration(spec));
        expect(configProblems("kubelet", rendered)).to.deep.equal([]);
    });

    it("a misspelt field and a flag-only setting written as a config field fail, so the check above can fail", () => {
        const wrong = { ...kubeletConfiguration(spec), serverTlsBootstrap: true, imageCredentialProviderConfig: "/etc/kubernetes/credential-provider.yaml", registerWithTaints: [{ key: "a", effect: "NoSchedule", operator: "Exists" }] };
        const errors = configProblems("kubelet", wrong);
        expect(errors).to.have.length(3);
        expect(errors.join("\n")).to.contain("serverTlsBootstrap: not a KubeletConfiguration field")
            .and.to.contain("imageCredentialProviderConfig: not a KubeletConfiguration field; --image-credential-provider-config is a kubelet command-line flag")
            .and.to.contain("registerWithTaints[].operator");
    });

    it("registers the configured taints (value optional) and points cluster DNS at the given IP", () => {
        const config = kubeletConfiguration(spec) as any;
        expect(config.registerWithTaints).to.deep.equal([{ key: "kaws.io/system", value: "true", effect: "NoSchedule" }, { key: "dedicated", effect: "NoExecute" }]);
        expect(config.clusterDNS).to.deep.equal(["10.96.0.10"]);
    });

    it("node labels: passes labels a kubelet may set, refuses node-role.kubernetes.io/* and other reserved prefixes by name", () => {
        expect(nodeLabelsFlag({ "kaws.io/pool": "general", team: "a" })).to.equal("kaws.io/pool=general,team=a");
        expect(() => nodeLabelsFlag({ "node-role.kubernetes.io/worker": "" })).to.throw(/node-role\.kubernetes\.io\/worker: kubelets cannot set kubernetes\.io\/ or k8s\.io\/ labels/);
        expect(() => nodeLabelsFlag({ "bad key!": "x" })).to.throw(/not a valid Kubernetes label/);
    });

    it("the kubelet unit runs the external cloud provider with TLS bootstrapping and no hostname override", () => {
        const unit = renderKubeletService({ nodeLabels: { "kaws.io/pool": "general" } });
        expect(unit).to.include("--cloud-provider=external").and.include("--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf")
            .and.include("--node-labels=kaws.io/pool=general").and.not.include("--hostname-override");
    });

    it("the kubelet unit passes systemd-analyze verify, and a broken one does not", function () {
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        const unit = renderKubeletService({ nodeLabels: { "kaws.io/pool": "general" } });
        expect(verifyUnits({ "kubelet.service": unit })).to.deep.equal([]);
        expect(verifyUnits({ "kubelet.service": unit.replace("Restart=always", "Restart=sometimes") })).to.have.length.greaterThan(0);
    });

    it("the bootstrap kubeconfig carries the token and the CA, and kubectl reads it", function () {
        const text = renderBootstrapKubeconfig({ clusterName: "c1", server: "https://127.0.0.1:6443", caCertPem: ca, tokenId: "abcdef", tokenSecret: "0123456789abcdef" });
        if (!toolAvailable("kubectl", this)) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-kubelet-"));
        try {
            fs.writeFileSync(path.join(dir, "config"), text, { mode: 0o600 });
            const view = spawnSync("kubectl", ["config", "view", "--raw", "-o", "json", `--kubeconfig=${path.join(dir, "config")}`], { encoding: "utf8" });
            expect(view.status, view.stderr).to.equal(0);
            const config = JSON.parse(view.stdout);
            expect(config.users[0].user.token).to.equal("abcdef.0123456789abcdef");
            expect(config.clusters[0].cluster.server).to.equal("https://127.0.0.1:6443");
            expect(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString()).to.equal(ca);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a malformed bootstrap token or server", () => {
        expect(() => renderBootstrapKubeconfig({ clusterName: "c1", server: "https://x:6443", caCertPem: ca, tokenId: "ABCDEF", tokenSecret: "0123456789abcdef" })).to.throw(/bootstrap token/);
        expect(() => renderBootstrapKubeconfig({ clusterName: "c1", server: "http://x:6443", caCertPem: ca, tokenId: "abcdef", tokenSecret: "0123456789abcdef" })).to.throw(/https URL/);
    });

    it("the ECR credential provider config has only CredentialProviderConfig v1 fields and matches ECR registries only", () => {
        const config = parse(renderCredentialProviderConfig());
        expect(configProblems("credentialProvider", config)).to.deep.equal([]);
        expect(configProblems("credentialProvider", { ...config, cacheDuration: "1h" })).to.have.length(1);
        expect(config.providers[0].matchImages.every((m: string) => /\.dkr\.ecr(-fips)?\.\*\.amazonaws\.com/.test(m))).to.equal(true);
    });
});
