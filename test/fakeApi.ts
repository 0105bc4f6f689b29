import * as https from "https";
import { AddressInfo } from "net";
import { offlineTlsComputer as compute } from "../automation/offline/tls";

/**
 * Certificates for a fake API server, made by the project's own CA logic (the offline tls computer that
 * `kaws render` uses, i.e. @peculiar/x509 over node:crypto): a cluster CA with a server certificate for
 * 127.0.0.1 and an admin client certificate, and an unrelated CA with its own server certificate.
 */
export interface ClusterPki {
    readonly ca: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
    readonly otherCa: string;
    readonly otherServerCert: string;
    readonly otherServerKey: string;
}

const key = async (): Promise<string> => ((await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" })) as any).privateKeyPem;

async function selfSignedCa(commonName: string): Promise<{ cert: string; key: string }> {
    const caKey = await key();
    const ca = await compute("tls:index/selfSignedCert:SelfSignedCert", "ca", {
        privateKeyPem: caKey, subject: { commonName }, isCaCertificate: true, validityPeriodHours: 24, allowedUses: ["certSigning", "digitalSignature", "keyEncipherment"],
    }) as any;
    return { cert: ca.certPem, key: caKey };
}

async function leaf(ca: { cert: string; key: string }, subject: Record<string, string>, extra: Record<string, unknown>, allowedUses: string[]): Promise<{ cert: string; key: string }> {
    const leafKey = await key();
    const csr = await compute("tls:index/certRequest:CertRequest", "csr", { privateKeyPem: leafKey, subject, ...extra }) as any;
    const signed = await compute("tls:index/locallySignedCert:LocallySignedCert", "cert", {
        certRequestPem: csr.certRequestPem, caCertPem: ca.cert, caPrivateKeyPem: ca.key, validityPeriodHours: 24, allowedUses,
    }) as any;
    return { cert: signed.certPem, key: leafKey };
}

export async function makeClusterPki(): Promise<ClusterPki> {
    const ca = await selfSignedCa("kubernetes");
    const other = await selfSignedCa("other-ca");
    const server = await leaf(ca, { commonName: "kube-apiserver" }, { ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] }, ["digitalSignature", "keyEncipherment", "serverAuth"]);
    const client = await leaf(ca, { commonName: "kubernetes-admin", organization: "system:masters" }, {}, ["digitalSignature", "keyEncipherment", "clientAuth"]);
    const otherServer = await leaf(other, { commonName: "kube-apiserver" }, { ipAddresses: ["127.0.0.1"] }, ["digitalSignature", "keyEncipherment", "serverAuth"]);
    return {
        ca: ca.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key,
        otherCa: other.cert, otherServerCert: otherServer.cert, otherServerKey: otherServer.key,
    };
}

export interface FakeAnswer {
    readonly status: number;
    /** A string is sent as text/plain, anything else as JSON. */
    readonly body: unknown;
}

export interface FakeApi {
    readonly endpoint: string;
    /** Paths asked for, with the client certificate's common name. */
    readonly requests: { path: string; client: string }[];
    close(): Promise<void>;
}

/**
 * An HTTPS server on 127.0.0.1 (random port) that requires a client certificate from `ca` and answers
 * every request at once from `answer` (404 when it returns undefined).
 */
export async function startFakeApi(tls: { cert: string; key: string; ca: string }, answer: (path: string) => FakeAnswer | undefined): Promise<FakeApi> {
    const requests: { path: string; client: string }[] = [];
    const server = https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        const peer = (req.socket as import("tls").TLSSocket).getPeerCertificate();
        requests.push({ path: req.url ?? "", client: String(peer?.subject?.CN ?? "") });
        const reply = answer(req.url ?? "");
        if (!reply) {
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ kind: "Status", status: "Failure", message: `the server could not find the requested resource (${req.url})`, code: 404 }));
            return;
        }
        const text = typeof reply.body === "string";
        res.writeHead(reply.status, { "Content-Type": text ? "text/plain" : "application/json" });
        res.end(text ? reply.body : JSON.stringify(reply.body));
    });
    server.on("tlsClientError", () => { /* a client refused by TLS: expected in tests */ });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections?.();
        }),
    };
}

/** An admin kubeconfig for a fake API server at `endpoint`, as the infra stack's kubeconfig output has it (data fields, base64). */
export function kubeconfigFor(endpoint: string, pki: ClusterPki): string {
    const b64 = (pem: string) => Buffer.from(pem).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: fake",
        "    cluster:",
        `      server: ${endpoint}`,
        `      certificate-authority-data: ${b64(pki.ca)}`,
        "users:",
        "  - name: admin",
        "    user:",
        `      client-certificate-data: ${b64(pki.clientCert)}`,
        `      client-key-data: ${b64(pki.clientKey)}`,
        "contexts:",
        "  - name: fake",
        "    context: { cluster: fake, user: admin }",
        "current-context: fake",
        "",
    ].join("\n");
}
