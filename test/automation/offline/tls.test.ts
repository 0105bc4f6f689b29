import "reflect-metadata"; // @peculiar/x509 needs the reflect polyfill before it loads
import { expect } from "chai";
import * as crypto from "crypto";
import * as x509 from "@peculiar/x509";
import { offlineTlsComputer as compute } from "../../../automation/offline/tls";

describe("offline tls/random computer", () => {
    it("generates ECDSA keys as SEC1 PEM on the requested curve and RSA keys as PKCS#1 of the requested size", async () => {
        const ec = await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P384" }) as any;
        expect(ec.privateKeyPem).to.match(/^-----BEGIN EC PRIVATE KEY-----/);
        expect(crypto.createPrivateKey(ec.privateKeyPem).asymmetricKeyDetails?.namedCurve).to.equal("secp384r1");
        expect(crypto.createPublicKey(ec.publicKeyPem).equals(crypto.createPublicKey(ec.privateKeyPem))).to.equal(true);
        const rsa = await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "RSA", rsaBits: 2048 }) as any;
        expect(rsa.privateKeyPem).to.match(/^-----BEGIN RSA PRIVATE KEY-----/);
        expect(crypto.createPrivateKey(rsa.privateKeyPem).asymmetricKeyDetails?.modulusLength).to.equal(2048);
    });

    it("signs a CSR's subject and SANs with the CA, adding exactly the allowed uses and the validity asked for", async () => {
        const caKey = await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
        const ca = await compute("tls:index/selfSignedCert:SelfSignedCert", "c", {
            privateKeyPem: caKey.privateKeyPem, subject: { commonName: "test CA", organization: "kaws" }, isCaCertificate: true, validityPeriodHours: 48, allowedUses: ["certSigning"],
        }) as any;
        const key = await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
        const csr = await compute("tls:index/certRequest:CertRequest", "r", { privateKeyPem: key.privateKeyPem, subject: { commonName: "leaf", organization: "team" }, dnsNames: ["a.example"], ipAddresses: ["10.0.0.1"] }) as any;
        const signed = await compute("tls:index/locallySignedCert:LocallySignedCert", "s", {
            certRequestPem: csr.certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: caKey.privateKeyPem, validityPeriodHours: 24, allowedUses: ["digitalSignature", "clientAuth"],
        }) as any;
        const cert = new x509.X509Certificate(signed.certPem);
        const caCert = new x509.X509Certificate(ca.certPem);
        expect(cert.subject).to.equal("O=team, CN=leaf");
        expect(cert.issuer).to.equal(caCert.subject);
        expect(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true })).to.equal(true);
        expect((cert.notAfter.getTime() - cert.notBefore.getTime()) / 3600_000).to.equal(24);
        expect(new Date(signed.validityEndTime).getTime()).to.equal(cert.notAfter.getTime());
        const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
        expect(san.names.items.map((n) => `${n.type}:${n.value}`)).to.deep.equal(["dns:a.example", "ip:10.0.0.1"]);
        expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).to.equal(x509.KeyUsageFlags.digitalSignature);
        expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).to.deep.equal([x509.ExtendedKeyUsage.clientAuth]);
        expect(cert.getExtension(x509.BasicConstraintsExtension)!.ca).to.equal(false);
    });

    it("refuses allowedUses it does not know instead of silently dropping them", async () => {
        const key = await compute("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA", ecdsaCurve: "P256" }) as any;
        let error: Error | undefined;
        try {
            await compute("tls:index/selfSignedCert:SelfSignedCert", "c", { privateKeyPem: key.privateKeyPem, validityPeriodHours: 1, allowedUses: ["server_auth"] });
        } catch (e) {
            error = e as Error;
        }
        expect(error?.message).to.match(/unsupported allowedUses value server_auth/);
    });

    it("draws random values of the requested shape", async () => {
        for (let i = 0; i < 20; i++) {
            const token = await compute("random:index/randomString:RandomString", "t", { length: 16, upper: false, special: false }) as any;
            expect(token.result).to.match(/^[a-z0-9]{16}$/);
            const password = await compute("random:index/randomPassword:RandomPassword", "p", { length: 32, special: false, minUpper: 2, minNumeric: 2 }) as any;
            expect(password.result).to.match(/^[A-Za-z0-9]{32}$/);
            expect(password.result.replace(/[^A-Z]/g, "").length).to.be.at.least(2);
            expect(password.result.replace(/[^0-9]/g, "").length).to.be.at.least(2);
        }
        const bytes = await compute("random:index/randomBytes:RandomBytes", "b", { length: 32 }) as any;
        expect(Buffer.from(bytes.base64, "base64")).to.have.length(32);
        expect(Buffer.from(bytes.hex, "hex").equals(Buffer.from(bytes.base64, "base64"))).to.equal(true);
        const again = await compute("random:index/randomBytes:RandomBytes", "b", { length: 32 }) as any;
        expect(again.base64).to.not.equal(bytes.base64);
        expect(await compute("aws:s3/bucket:Bucket", "b", {})).to.equal(undefined);
    });
});
