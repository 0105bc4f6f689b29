import { expect } from "chai";
import * as crypto from "crypto";
import { parse } from "yaml";
import { renderEncryptionConfig } from "../../secrets/encryptionConfig";

const cipherProviders = ["secretbox", "aescbc", "aesgcm", "kms"];

describe("render/encryptionConfig", () => {
    const key = crypto.randomBytes(32).toString("base64");
    const config = parse(renderEncryptionConfig({ keyName: "key-1", secretboxKeyBase64: key }));

    it("is an apiserver.config.k8s.io/v1 EncryptionConfiguration for secrets and configmaps", () => {
        expect(config.apiVersion).to.equal("apiserver.config.k8s.io/v1");
        expect(config.kind).to.equal("EncryptionConfiguration");
        expect(config.resources).to.have.length(1);
        expect(config.resources[0].resources).to.have.members(["secrets", "configmaps"]);
    });

    it("writes with a cipher first (secretbox, 32-byte key) and keeps identity last for reading old data", () => {
        const providers = config.resources[0].providers;
        const first = Object.keys(providers[0]);
        expect(first).to.have.length(1);
        expect(cipherProviders).to.include(first[0]);
        expect(first[0]).to.equal("secretbox");
        const keys = providers[0].secretbox.keys;
        expect(keys).to.have.length(1);
        expect(Buffer.from(keys[0].secret, "base64")).to.have.length(32);
        expect(Object.keys(providers[providers.length - 1])).to.deep.equal(["identity"]);
        expect(providers.slice(0, -1).some((p: object) => "identity" in p)).to.equal(false);
    });

    it("refuses keys that are not 32 bytes of base64 and bad key names", () => {
        expect(() => renderEncryptionConfig({ keyName: "key-1", secretboxKeyBase64: crypto.randomBytes(16).toString("base64") })).to.throw(/secretboxKeyBase64.*32 bytes/);
        expect(() => renderEncryptionConfig({ keyName: "key-1", secretboxKeyBase64: "not base64!" })).to.throw(/secretboxKeyBase64/);
        expect(() => renderEncryptionConfig({ keyName: "Key 1", secretboxKeyBase64: key })).to.throw(/keyName/);
    });
});
