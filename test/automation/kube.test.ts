import { expect } from "chai";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { ClusterUnreachableError } from "../../automation/driver";
import { kubernetesJanitor } from "../../automation/kube";
import { Pki, makePki } from "../tlsFixture";
import { toolAvailable } from "../tools";

interface FakeCluster {
    services: { metadata: { name: string; namespace: string }; spec: { type: string } }[];
    claims: { metadata: { name: string; namespace: string } }[];
    pods: { metadata: { name: string; namespace: string }; spec: { volumes: { persistentVolumeClaim?: { claimName: string } }[] } }[];
    volumes: { metadata: { name: string }; spec: { persistentVolumeReclaimPolicy: string; claimRef: { name: string; namespace: string } } }[];
    deleted: string[];
    authenticated: boolean[];
}

/** A fake API server: a deleted LoadBalancer Service or claimed volume disappears only after one more list (as finalizers do). */
function fakeApi(cluster: FakeCluster, pki: Pki, releaseVolumes: boolean): https.Server {
    const pending = new Set<string>();
    return https.createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        cluster.authenticated.push((req.socket as any).authorized === true);
        const send = (body: unknown) => { res.writeHead(200, { "Content-Type": "application/json" }); res.end(JSON.stringify(body)); };
        const url = req.url ?? "";
        if (req.method === "DELETE") {
            cluster.deleted.push(url);
            pending.add(url);
            if (/\/pods\//.test(url)) cluster.pods = cluster.pods.filter((p) => !url.endsWith(`/pods/${p.metadata.name}`));
            return send({});
        }
        const gone = (u: string) => [...pending].some((p) => p.endsWith(u));
        if (url === "/api/v1/services") {
            const items = cluster.services;
            cluster.services = items.filter((s) => !gone(`/services/${s.metadata.name}`));
            return send({ items });
        }
        if (url === "/api/v1/persistentvolumeclaims") return send({ items: cluster.claims });
        if (url === "/api/v1/pods") return send({ items: cluster.pods });
        if (url === "/api/v1/persistentvolumes") {
            const items = cluster.volumes;
            if (releaseVolumes) cluster.volumes = items.filter((v) => !gone(`/persistentvolumeclaims/${v.spec.claimRef.name}`) || cluster.pods.length > 1);
            return send({ items });
        }
        res.writeHead(404);
        res.end();
    });
}

function kubeconfigFor(endpoint: string, pki: Pki): string {
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    return [
        "apiVersion: v1", "kind: Config",
        "clusters:", "  - name: c", "    cluster:", `      server: ${endpoint}`, `      certificate-authority-data: ${b64(pki.ca)}`,
        "users:", "  - name: admin", "    user:", `      client-certificate-data: ${b64(pki.clientCert)}`, `      client-key-data: ${b64(pki.clientKey)}`, "",
    ].join("\n");
}

describe("kubernetesJanitor (against a fake API server with our CA)", function () {
    this.timeout(10000);
    let pki: Pki;

    before(function () {
        if (!toolAvailable("openssl", this)) return;
        pki = makePki(fs.mkdtempSync(path.join(os.tmpdir(), "kaws-kube-")));
    });

    const newCluster = (): FakeCluster => ({
        services: [
            { metadata: { name: "web", namespace: "shop" }, spec: { type: "LoadBalancer" } },
            { metadata: { name: "internal", namespace: "shop" }, spec: { type: "ClusterIP" } },
        ],
        claims: [{ metadata: { name: "data-db-0", namespace: "shop" } }],
        pods: [
            { metadata: { name: "db-0", namespace: "shop" }, spec: { volumes: [{ persistentVolumeClaim: { claimName: "data-db-0" } }] } },
            { metadata: { name: "web-1", namespace: "shop" }, spec: { volumes: [{}] } },
        ],
        volumes: [{ metadata: { name: "pvc-1" }, spec: { persistentVolumeReclaimPolicy: "Delete", claimRef: { name: "data-db-0", namespace: "shop" } } }],
        deleted: [],
        authenticated: [],
    });

    async function serve(cluster: FakeCluster, releaseVolumes: boolean): Promise<{ server: https.Server; kubeconfig: string }> {
        const server = fakeApi(cluster, pki, releaseVolumes);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return { server, kubeconfig: kubeconfigFor(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, pki) };
    }

    it("deletes LoadBalancer Services, claims and the pods holding them, and waits until AWS released them", async () => {
        const cluster = newCluster();
        const { server, kubeconfig } = await serve(cluster, true);
        const progress: string[] = [];
        try {
            const result = await kubernetesJanitor({ timeoutMs: 5000, intervalMs: 20 }).removeCloudResources(kubeconfig, new AbortController().signal, (m) => progress.push(m));
            expect(result).to.deep.equal({ services: 1, claims: 1 });
        } finally {
            server.close();
        }
        expect(cluster.deleted).to.deep.equal([
            "/api/v1/namespaces/shop/services/web",
            "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-0",
            "/api/v1/namespaces/shop/pods/db-0",
        ]);
        expect(cluster.authenticated.every(Boolean), "every call presents the admin client certificate").to.equal(true);
        expect(progress.join("\n")).to.match(/waiting for AWS: \d load balancer\(s\), \d volume\(s\) left/);
    });

    it("gives up after its time bound when a volume is never released", async () => {
        const { server, kubeconfig } = await serve(newCluster(), false);
        let error: unknown;
        try {
            await kubernetesJanitor({ timeoutMs: 200, intervalMs: 20 }).removeCloudResources(kubeconfig, new AbortController().signal, () => undefined);
        } catch (err) { error = err; } finally { server.close(); }
        expect((error as Error).message).to.match(/0 load balancer\(s\) and 1 volume\(s\) still being deleted after 0 s/);
    });

    it("reports an unreachable cluster as such", async () => {
        const { server, kubeconfig } = await serve(newCluster(), true);
        await new Promise((resolve) => server.close(resolve));
        let error: unknown;
        try {
            await kubernetesJanitor().removeCloudResources(kubeconfig, new AbortController().signal, () => undefined);
        } catch (err) { error = err; }
        expect(error).to.be.instanceOf(ClusterUnreachableError);
        expect((error as Error).message).to.match(/unreachable \(ECONNREFUSED/);
    });
});
