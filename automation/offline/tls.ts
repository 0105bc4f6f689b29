import "reflect-metadata";
import * as crypto from "crypto";
import * as x509 from "@peculiar/x509";
import { unwrapSecret } from "./secrets";

/** Handles resource types whose outputs must be really computed offline (for example signed certificates). */
export type ResourceComputer = (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

/**
 * Offline stand-in for the tls and random providers: it really generates keys, signs certificates and
 * draws random values, shaped as @pulumi/tls 5.x and @pulumi/random 4.x would return them, so that
 * everything built from them (chains, SANs, usages, kubeconfigs) can be checked with real tools.
 */

type CryptoKey = crypto.webcrypto.CryptoKey;
type Algorithm = crypto.webcrypto.Algorithm;
type EcdsaParams = crypto.webcrypto.EcdsaParams;

x509.cryptoProvider.set(crypto.webcrypto as any);

const keyUsageFlags: Record<string, x509.KeyUsageFlags> = {
    digitalSignature: x509.KeyUsageFlags.digitalSignature,
    contentCommitment: x509.KeyUsageFlags.nonRepudiation,
    keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
    dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
    keyAgreement: x509.KeyUsageFlags.keyAgreement,
    certSigning: x509.KeyUsageFlags.keyCertSign,
    crlSigning: x509.KeyUsageFlags.cRLSign,
    encipherOnly: x509.KeyUsageFlags.encipherOnly,
    decipherOnly: x509.KeyUsageFlags.decipherOnly,
};

const extendedKeyUsages: Record<string, string> = {
    anyExtended: "2.5.29.37.0",
    serverAuth: "1.3.6.1.5.5.7.3.1",
    clientAuth: "1.3.6.1.5.5.7.3.2",
    codeSigning: "1.3.6.1.5.5.7.3.3",
    emailProtection: "1.3.6.1.5.5.7.3.4",
    ipsecEndSystem: "1.3.6.1.5.5.7.3.5",
    ipsecTunnel: "1.3.6.1.5.5.7.3.6",
    ipsecUser: "1.3.6.1.5.5.7.3.7",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocspSigning: "1.3.6.1.5.5.7.3.9",
};

const subjectAlternativeNameOid = "2.5.29.17";

/** Subject attributes in the order Go's pkix.Name writes them. */
const subjectAttributes: [string, string][] = [
    ["country", "C"], ["province", "ST"], ["locality", "L"], ["streetAddresses", "street"], ["postalCode", "postalCode"],
    ["organization", "O"], ["organizationalUnit", "OU"], ["commonName", "CN"], ["serialNumber", "serialNumber"],
];

interface SigningKeys {
    readonly privateKey: CryptoKey;
    readonly publicKey: CryptoKey;
    readonly algorithm: "ECDSA" | "RSA";
    readonly signingAlgorithm: Algorithm | EcdsaParams;
}

async function importKeyPair(privateKeyPem: string): Promise<SigningKeys> {
    const keyObject = crypto.createPrivateKey(privateKeyPem);
    const pkcs8 = keyObject.export({ type: "pkcs8", format: "der" });
    const spki = crypto.createPublicKey(keyObject).export({ type: "spki", format: "der" });
    let importParams: crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcKeyImportParams;
    let signingAlgorithm: Algorithm | EcdsaParams;
    let algorithm: SigningKeys["algorithm"];
    if (keyObject.asymmetricKeyType === "ec") {
        const curve = keyObject.asymmetricKeyDetails?.namedCurve;
        const named = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : curve === "secp521r1" ? "P-521" : undefined;
        if (!named) throw new Error(`offline tls: unsupported EC curve ${curve}`);
        importParams = { name: "ECDSA", namedCurve: named };
        signingAlgorithm = { name: "ECDSA", hash: named === "P-256" ? "SHA-256" : named === "P-384" ? "SHA-384" : "SHA-512" } as EcdsaParams;
        algorithm = "ECDSA";
    } else if (keyObject.asymmetricKeyType === "rsa") {
        importParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
        signingAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
        algorithm = "RSA";
    } else {
        throw new Error(`offline tls: unsupported key type ${keyObject.asymmetricKeyType}`);
    }
    const subtle = crypto.webcrypto.subtle;
    return {
        privateKey: await subtle.importKey("pkcs8", pkcs8, importParams, true, ["sign"]),
        publicKey: await subtle.importKey("spki", spki, importParams, true, ["verify"]),
        algorithm,
        signingAlgorithm,
    };
}

function generatePrivateKey(inputs: Record<string, any>): Record<string, unknown> {
    const algorithm = inputs.algorithm;
    let keys: crypto.KeyPairKeyObjectResult;
    let privateKeyPem: string;
    if (algorithm === "ECDSA") {
        const curve = inputs.ecdsaCurve ?? "P224";
        const namedCurve = ({ P224: "secp224r1", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" } as Record<string, string>)[curve];
        if (!namedCurve) throw new Error(`offline tls: unsupported ecdsaCurve ${curve}`);
        keys = crypto.generateKeyPairSync("ec", { namedCurve });
        privateKeyPem = keys.privateKey.export({ type: "sec1", format: "pem" }).toString();
    } else if (algorithm === "RSA") {
        keys = crypto.generateKeyPairSync("rsa", { modulusLength: inputs.rsaBits ?? 2048 });
        privateKeyPem = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    } else {
        throw new Error(`offline tls: unsupported private key algorithm ${algorithm}`);
    }
    const publicDer = keys.publicKey.export({ type: "spki", format: "der" });
    return {
        ecdsaCurve: inputs.ecdsaCurve ?? "P224",
        rsaBits: inputs.rsaBits ?? 2048,
        privateKeyPem,
        privateKeyPemPkcs8: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
        publicKeyOpenssh: "",
        privateKeyOpenssh: "",
        publicKeyFingerprintMd5: crypto.createHash("md5").update(publicDer).digest("hex").replace(/(..)(?!$)/g, "$1:"),
        publicKeyFingerprintSha256: `SHA256:${crypto.createHash("sha256").update(publicDer).digest("base64").replace(/=+$/, "")}`,
    };
}

function subjectName(subject: Record<string, any> | undefined): x509.JsonName {
    const name: x509.JsonName = [];
    for (const [field, attribute] of subjectAttributes) {
        const value = unwrapSecret(subject?.[field]);
        if (value === undefined || value === null || value === "") continue;
        name.push({ [attribute]: Array.isArray(value) ? value : [String(value)] });
    }
    return name;
}

function alternativeNames(inputs: Record<string, any>): x509.Extension[] {
    const names: x509.JsonGeneralName[] = [
        ...(inputs.dnsNames ?? []).map((value: string) => ({ type: "dns" as const, value })),
        ...(inputs.ipAddresses ?? []).map((value: string) => ({ type: "ip" as const, value })),
        ...(inputs.uris ?? []).map((value: string) => ({ type: "url" as const, value })),
    ];
    return names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

/** Key usage, extended key usage and basic constraints as the Go provider writes them. */
function usageExtensions(inputs: Record<string, any>): x509.Extension[] {
    const uses: string[] = inputs.allowedUses ?? [];
    let flags = 0;
    const extended: string[] = [];
    for (const use of uses) {
        if (use in keyUsageFlags) flags |= keyUsageFlags[use];
        else if (use in extendedKeyUsages) extended.push(extendedKeyUsages[use]);
        else throw new Error(`offline tls: unsupported allowedUses value ${use}`);
    }
    const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(Boolean(inputs.isCaCertificate), undefined, true)];
    if (flags) extensions.push(new x509.KeyUsagesExtension(flags, true));
    if (extended.length) extensions.push(new x509.ExtendedKeyUsageExtension(extended, false));
    return extensions;
}

function validity(inputs: Record<string, any>): { notBefore: Date; notAfter: Date } {
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + Number(inputs.validityPeriodHours) * 3600_000);
    if (!(notAfter > notBefore)) throw new Error(`offline tls: validityPeriodHours must be positive, got ${inputs.validityPeriodHours}`);
    return { notBefore, notAfter };
}

function serialNumber(): string {
    const bytes = crypto.randomBytes(16);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    return bytes.toString("hex");
}

function certificateOutputs(cert: x509.X509Certificate, times: { notBefore: Date; notAfter: Date }, keyAlgorithm: string): Record<string, unknown> {
    return {
        certPem: cert.toString("pem") + "\n",
        validityStartTime: times.notBefore.toISOString().replace(/\.000Z$/, "Z"),
        validityEndTime: times.notAfter.toISOString().replace(/\.000Z$/, "Z"),
        readyForRenewal: false,
        keyAlgorithm,
    };
}

async function selfSignedCert(inputs: Record<string, any>): Promise<Record<string, unknown>> {
    const keys = await importKeyPair(unwrapSecret(inputs.privateKeyPem));
    const times = validity(inputs);
    const extensions = [...usageExtensions(inputs), ...alternativeNames(inputs)];
    if (inputs.setSubjectKeyId || inputs.isCaCertificate) extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serialNumber(),
        name: subjectName(inputs.subject),
        ...times,
        signingAlgorithm: keys.signingAlgorithm,
        keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
        extensions,
    });
    return certificateOutputs(cert, times, keys.algorithm);
}

async function certRequest(inputs: Record<string, any>): Promise<Record<string, unknown>> {
    const keys = await importKeyPair(unwrapSecret(inputs.privateKeyPem));
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: subjectName(inputs.subject),
        signingAlgorithm: keys.signingAlgorithm,
        keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
        extensions: alternativeNames(inputs),
    });
    return { certRequestPem: csr.toString("pem") + "\n", keyAlgorithm: keys.algorithm };
}

async function locallySignedCert(inputs: Record<string, any>): Promise<Record<string, unknown>> {
    const ca = new x509.X509Certificate(unwrapSecret(inputs.caCertPem));
    const caKeys = await importKeyPair(unwrapSecret(inputs.caPrivateKeyPem));
    const csr = new x509.Pkcs10CertificateRequest(unwrapSecret(inputs.certRequestPem));
    if (!(await csr.verify())) throw new Error("offline tls: certificate request signature does not verify");
    const times = validity(inputs);
    const subjectPublicKey = await csr.publicKey.export();
    const extensions = [
        ...usageExtensions(inputs),
        ...csr.extensions.filter((e) => e.type === subjectAlternativeNameOid),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (inputs.setSubjectKeyId || inputs.isCaCertificate) extensions.push(await x509.SubjectKeyIdentifierExtension.create(subjectPublicKey));
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: csr.subjectName,
        issuer: ca.subjectName,
        ...times,
        signingAlgorithm: caKeys.signingAlgorithm,
        publicKey: csr.publicKey,
        signingKey: caKeys.privateKey,
        extensions,
    });
    return { ...certificateOutputs(cert, times, csr.publicKey.algorithm.name === "ECDSA" ? "ECDSA" : "RSA"), caKeyAlgorithm: caKeys.algorithm };
}

const alphabets = {
    upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    lower: "abcdefghijklmnopqrstuvwxyz",
    numeric: "0123456789",
    special: "!@#$%&*()-_=+[]{}<>:?",
};

function randomFrom(alphabet: string): string {
    return alphabet[crypto.randomInt(alphabet.length)];
}

/** A random string honouring the random provider's character classes and minimums. */
function randomText(inputs: Record<string, any>): string {
    const length = Number(inputs.length);
    if (!Number.isInteger(length) || length < 1) throw new Error(`offline random: length must be a positive integer, got ${inputs.length}`);
    const classes = {
        upper: inputs.upper !== false ? alphabets.upper : "",
        lower: inputs.lower !== false ? alphabets.lower : "",
        numeric: inputs.numeric !== false && inputs.number !== false ? alphabets.numeric : "",
        special: inputs.special !== false ? (inputs.overrideSpecial ?? alphabets.special) : "",
    };
    const minimums: [keyof typeof classes, number][] = [
        ["upper", inputs.minUpper ?? 0], ["lower", inputs.minLower ?? 0], ["numeric", inputs.minNumeric ?? 0], ["special", inputs.minSpecial ?? 0],
    ];
    const chars: string[] = [];
    for (const [cls, min] of minimums) for (let i = 0; i < min; i++) chars.push(randomFrom(classes[cls] || alphabets[cls]));
    const all = Object.values(classes).join("");
    if (!all) throw new Error("offline random: every character class is disabled");
    while (chars.length < length) chars.push(randomFrom(all));
    for (let i = chars.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    return chars.join("");
}

/** Really generates what the tls and random providers would compute; undefined for other types. */
export const offlineTlsComputer: ResourceComputer = async (type, _name, inputs) => {
    switch (type) {
        case "tls:index/privateKey:PrivateKey":
            return generatePrivateKey(inputs);
        case "tls:index/selfSignedCert:SelfSignedCert":
            return selfSignedCert(inputs);
        case "tls:index/certRequest:CertRequest":
            return certRequest(inputs);
        case "tls:index/locallySignedCert:LocallySignedCert":
            return locallySignedCert(inputs);
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            return { result: randomText(inputs) };
        case "random:index/randomBytes:RandomBytes": {
            const bytes = crypto.randomBytes(Number(inputs.length));
            return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        default:
            return undefined;
    }
};
