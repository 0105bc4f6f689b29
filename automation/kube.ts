import * as https from "https";
import { ClusterJanitor, ClusterUnreachableError, parseKubeconfig } from "./driver";
import { CancelledError } from "./wait";

interface Client {
    request(method: "GET" | "DELETE", path: string): Promise<any>;
}

function clientFor(kubeconfig: string, signal: AbortSignal): Client {
    const config = parseKubeconfig(kubeconfig);
    return {
        request: (method, path) => new Promise((resolve, reject) => {
            const request = https.request(new URL(path, config.server), {
                method,
                ca: config.caPem,
                cert: config.clientCertPem,
                key: config.clientKeyPem,
                timeout: 15_000,
                signal,
                headers: { Accept: "application/json" },
            }, (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk) => { body += chunk; });
                response.on("end", () => {
                    const status = response.statusCode ?? 0;
                    if (status === 404 && method === "DELETE") return resolve(undefined);
                    if (status >= 200 && status < 300) return resolve(body ? JSON.parse(body) : undefined);
                    reject(new Error(`${method} ${path}: HTTP ${status}`));
                });
            });
            request.on("timeout", () => request.destroy(new ClusterUnreachableError(`no answer from ${config.server} within 15 s`)));
            request.on("error", (err: NodeJS.ErrnoException) => {
                if (signal.aborted) reject(new CancelledError("cluster clean-up"));
                else if (err instanceof ClusterUnreachableError) reject(err);
                else reject(new ClusterUnreachableError(`${err.code ?? ""} ${err.message}`.trim()));
            });
            request.end();
        }),
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Item { metadata: { name: string; namespace?: string }; spec?: any }

/**
 * Deletes every LoadBalancer Service and every PersistentVolumeClaim (and the pods holding claims),
 * then waits until the Services are gone and no dynamically provisioned volume with reclaim policy
 * Delete remains: their finalizers are released only once AWS has deleted the load balancer or volume.
 */
export function kubernetesJanitor(options: { timeoutMs: number; intervalMs: number } = { timeoutMs: 15 * 60_000, intervalMs: 5_000 }): ClusterJanitor {
    return {
        async removeCloudResources(kubeconfig, signal, progress) {
            const api = clientFor(kubeconfig, signal);
            const loadBalancers = async (): Promise<Item[]> => ((await api.request("GET", "/api/v1/services")).items as Item[]).filter((s) => s.spec?.type === "LoadBalancer");
            const claims = async (): Promise<Item[]> => (await api.request("GET", "/api/v1/persistentvolumeclaims")).items;
            const volumes = async (): Promise<Item[]> => ((await api.request("GET", "/api/v1/persistentvolumes")).items as Item[]).filter((v) => v.spec?.persistentVolumeReclaimPolicy === "Delete");
            const services = await loadBalancers();
            const pvcs = await claims();
            for (const s of services) await api.request("DELETE", `/api/v1/namespaces/${s.metadata.namespace}/services/${s.metadata.name}`);
            for (const c of pvcs) await api.request("DELETE", `/api/v1/namespaces/${c.metadata.namespace}/persistentvolumeclaims/${c.metadata.name}`);
            const claimed = new Set(pvcs.map((c) => `${c.metadata.namespace}/${c.metadata.name}`));
            const pods: (Item & { spec: { volumes?: { persistentVolumeClaim?: { claimName: string } }[] } })[] = (await api.request("GET", "/api/v1/pods")).items;
            for (const pod of pods) {
                const holdsClaim = (pod.spec.volumes ?? []).some((v: { persistentVolumeClaim?: { claimName: string } }) => v.persistentVolumeClaim && claimed.has(`${pod.metadata.namespace}/${v.persistentVolumeClaim.claimName}`));
                if (holdsClaim) await api.request("DELETE", `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`);
            }
            progress(`deleting ${services.length} LoadBalancer Service(s) and ${pvcs.length} PVC(s)`);
            const started = Date.now();
            while (true) {
                const [lb, pv] = [(await loadBalancers()).length, (await volumes()).length];
                if (lb === 0 && pv === 0) return { services: services.length, claims: pvcs.length };
                if (Date.now() - started > options.timeoutMs) throw new Error(`${lb} load balancer(s) and ${pv} volume(s) still being deleted after ${Math.round(options.timeoutMs / 1000)} s`);
                progress(`waiting for AWS: ${lb} load balancer(s), ${pv} volume(s) left (${Math.round((Date.now() - started) / 1000)} s)`);
                await sleep(options.intervalMs);
                if (signal.aborted) throw new CancelledError("cluster clean-up");
            }
        },
    };
}
