import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { KeyAlgorithm } from "../plan/config";
import { ClusterPlan, identities } from "../plan/cluster";

/** A certificate authority: its self-signed certificate and its (secret) key. */
export interface CertificateAuthority {
    readonly certPem: pulumi.Output<string>;
    readonly keyPem: pulumi.Output<string>;
    /** RFC 3339 end of validity. */
    readonly expiry: pulumi.Output<string>;
}

/** A leaf certificate signed by one of the CAs, with its own (secret) key. */
export interface IssuedCertificate {
    readonly certPem: pulumi.Output<string>;
    readonly keyPem: pulumi.Output<string>;
    /** RFC 3339 end of validity. */
    readonly expiry: pulumi.Output<string>;
}

export interface PkiArgs {
    /** Settings (plain: generations are replacement triggers), the service IP, the cluster domain and the etcd members. */
    readonly plan: ClusterPlan;
    /**
     * DNS names clients use to reach the API: the plan's apiDnsName (so the certificate need not wait for the
     * load balancer), or the NLB's own name when an internet-facing API has none.
     */
    readonly apiServerDnsNames: pulumi.Input<string>[];
}

/** The CA, client and server roles of the Kubernetes PKI; every extended usage a role needs and no more. */
type Role = "ca" | "server" | "client" | "serverAndClient";

const extendedUses: Record<Exclude<Role, "ca">, string[]> = {
    server: ["serverAuth"],
    client: ["clientAuth"],
    // etcd presents one certificate both ways: peers dial each other, and its gRPC gateway dials the server.
    serverAndClient: ["serverAuth", "clientAuth"],
};

/** Key and extended key usages of a role; keyEncipherment only matters for RSA key transport. */
export function allowedUses(role: Role, keyAlgorithm: KeyAlgorithm): string[] {
    if (role === "ca") return ["certSigning", "crlSigning", "digitalSignature"];
    const keyUses = keyAlgorithm.startsWith("RSA") ? ["digitalSignature", "keyEncipherment"] : ["digitalSignature"];
    return [...keyUses, ...extendedUses[role]];
}

/** tls.PrivateKey arguments for a configured key algorithm. */
export function privateKeyArgs(keyAlgorithm: KeyAlgorithm): tls.PrivateKeyArgs {
    switch (keyAlgorithm) {
        case "ECDSA-P256": return { algorithm: "ECDSA", ecdsaCurve: "P256" };
        case "ECDSA-P384": return { algorithm: "ECDSA", ecdsaCurve: "P384" };
        case "RSA-2048": return { algorithm: "RSA", rsaBits: 2048 };
        case "RSA-4096": return { algorithm: "RSA", rsaBits: 4096 };
        default: throw new Error(`kaws:pkiKeyAlgorithm: ${keyAlgorithm} is not supported; accepted: ECDSA-P256, ECDSA-P384, RSA-2048, RSA-4096`);
    }
}

/** Replacement triggers: a CA generation bump replaces CAs and leaves, a leaf generation bump only leaves. */
export function caTrigger(caGeneration: number): string {
    return `ca-generation-${caGeneration}`;
}

export function leafTrigger(caGeneration: number, leafGeneration: number): string {
    return `${caTrigger(caGeneration)}/leaf-generation-${leafGeneration}`;
}

/**
 * The cluster's PKI, kubeadm-shaped: a cluster CA, a separate etcd CA (an etcd client certificate never
 * authenticates to the API or the reverse), a front-proxy CA for the aggregation layer, the
 * service-account signing key, and the leaf certificates of the control plane and of each etcd member.
 * Node (kubelet) certificates are not minted here: kubelets obtain them by TLS bootstrapping.
 */
export class Pki extends pulumi.ComponentResource {
    readonly clusterCa: CertificateAuthority;
    readonly etcdCa: CertificateAuthority;
    readonly frontProxyCa: CertificateAuthority;
    /** The service-account token signing key (secret) and its public half. */
    readonly serviceAccountKeyPem: pulumi.Output<string>;
    readonly serviceAccountPublicKeyPem: pulumi.Output<string>;
    readonly apiServer: IssuedCertificate;
    /** kube-apiserver → kubelet; needs a ClusterRoleBinding to system:kubelet-api-admin (the control-plane nodes apply it, controlPlane/nodeBootstrap.ts). */
    readonly apiServerKubeletClient: IssuedCertificate;
    readonly apiServerEtcdClient: IssuedCertificate;
    readonly frontProxyClient: IssuedCertificate;
    readonly controllerManager: IssuedCertificate;
    readonly scheduler: IssuedCertificate;
    /** Break-glass cluster-admin (O=system:masters): not revocable short of a CA rotation. */
    readonly admin: IssuedCertificate;
    readonly etcdMembers: readonly { readonly server: IssuedCertificate; readonly peer: IssuedCertificate }[];
    /** Every certificate's end of validity (RFC 3339), by certificate name. */
    readonly certificateExpiry: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:encryption:Pki", name, {}, opts);
        const settings = args.plan.config.pki;
        const clusterName = args.plan.clusterName;
        const caOptions = { parent: this, replacementTrigger: caTrigger(settings.caGeneration) };
        const leafOptions = { parent: this, replacementTrigger: leafTrigger(settings.caGeneration, settings.leafGeneration) };
        const expiries: Record<string, pulumi.Output<string>> = {};

        const authority = (id: string, commonName: string): CertificateAuthority => {
            const key = new tls.PrivateKey(`${name}-${id}-key`, privateKeyArgs(settings.keyAlgorithm), caOptions);
            const cert = new tls.SelfSignedCert(`${name}-${id}-cert`, {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName, organization: "kaws" },
                isCaCertificate: true,
                setSubjectKeyId: true,
                validityPeriodHours: settings.caValidityHours,
                allowedUses: allowedUses("ca", settings.keyAlgorithm),
            }, caOptions);
            expiries[id] = cert.validityEndTime;
            return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem), expiry: cert.validityEndTime };
        };

        const issue = (id: string, ca: CertificateAuthority, role: Exclude<Role, "ca">, subject: tls.types.input.CertRequestSubject,
            sans: { dnsNames?: pulumi.Input<string>[]; ipAddresses?: string[] } = {}): IssuedCertificate => {
            const key = new tls.PrivateKey(`${name}-${id}-key`, privateKeyArgs(settings.keyAlgorithm), leafOptions);
            const request = new tls.CertRequest(`${name}-${id}-csr`, {
                privateKeyPem: key.privateKeyPem,
                subject,
                dnsNames: sans.dnsNames,
                ipAddresses: sans.ipAddresses,
            }, leafOptions);
            const cert = new tls.LocallySignedCert(`${name}-${id}-cert`, {
                certRequestPem: request.certRequestPem,
                caCertPem: ca.certPem,
                caPrivateKeyPem: ca.keyPem,
                validityPeriodHours: settings.leafValidityHours,
                earlyRenewalHours: settings.earlyRenewalHours,
                allowedUses: allowedUses(role, settings.keyAlgorithm),
            }, leafOptions);
            expiries[id] = cert.validityEndTime;
            return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem), expiry: cert.validityEndTime };
        };

        this.clusterCa = authority("ca", `${clusterName} kubernetes CA`);
        this.etcdCa = authority("etcd-ca", `${clusterName} etcd CA`);
        this.frontProxyCa = authority("front-proxy-ca", `${clusterName} front-proxy CA`);

        const serviceAccountKey = new tls.PrivateKey(`${name}-service-account-key`, privateKeyArgs(settings.keyAlgorithm), caOptions);
        this.serviceAccountKeyPem = pulumi.secret(serviceAccountKey.privateKeyPem);
        this.serviceAccountPublicKeyPem = serviceAccountKey.publicKeyPem;

        this.apiServer = issue("apiserver", this.clusterCa, "server", { commonName: "kube-apiserver" }, {
            dnsNames: [
                ...args.apiServerDnsNames,
                args.plan.nodeApi.dnsName,
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                `kubernetes.default.svc.${args.plan.config.kubernetes.clusterDomain}`,
            ],
            ipAddresses: [args.plan.serviceIps.kubernetes, "127.0.0.1"],
        });
        this.apiServerKubeletClient = issue("apiserver-kubelet-client", this.clusterCa, "client", { commonName: identities.apiServerKubeletClient });
        this.apiServerEtcdClient = issue("apiserver-etcd-client", this.etcdCa, "client", { commonName: "kube-apiserver-etcd-client" });
        this.frontProxyClient = issue("front-proxy-client", this.frontProxyCa, "client", { commonName: "front-proxy-client" });
        this.controllerManager = issue("controller-manager", this.clusterCa, "client", { commonName: "system:kube-controller-manager" });
        this.scheduler = issue("scheduler", this.clusterCa, "client", { commonName: "system:kube-scheduler" });
        this.admin = issue("admin", this.clusterCa, "client", { commonName: "kaws-admin", organization: "system:masters" });

        this.etcdMembers = args.plan.etcd.members.map((member) => {
            const sans = { dnsNames: [member.dnsName, "localhost"], ipAddresses: [member.ip, "127.0.0.1"] };
            return {
                server: issue(`${member.name}-server`, this.etcdCa, "serverAndClient", { commonName: member.name }, sans),
                peer: issue(`${member.name}-peer`, this.etcdCa, "serverAndClient", { commonName: member.name }, sans),
            };
        });

        this.certificateExpiry = pulumi.all(expiries);
        this.registerOutputs({ certificateExpiry: this.certificateExpiry, clusterCaCertPem: this.clusterCa.certPem, etcdCaCertPem: this.etcdCa.certPem });
    }
}
