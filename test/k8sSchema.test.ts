import { expect } from "chai";
import { validateKubernetesObject } from "./k8sSchema";

describe("validateKubernetesObject (Kubernetes 1.36 schemas)", () => {
    const pod = (container: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [container] } });

    it("accepts a well-formed object", () => {
        expect(validateKubernetesObject(pod({ name: "c", image: "registry.k8s.io/pause:3.10.2" }))).to.deep.equal([]);
    });

    it("names the path of a wrong type, a bad enum value and a missing required field", () => {
        expect(validateKubernetesObject(pod({ name: "c", image: 3 })).join()).to.match(/\/spec\/containers\/0\/image/);
        expect(validateKubernetesObject(pod({ name: "c", imagePullPolicy: "Sometimes" })).join()).to.match(/imagePullPolicy.*IfNotPresent/);
        expect(validateKubernetesObject(pod({ image: "x" })).join()).to.match(/\/spec\/containers\/0.*name/);
    });

    it("rejects unknown types, a kind under the wrong group and objects without a name", () => {
        expect(validateKubernetesObject({ apiVersion: "apps/v1", kind: "StorageClass", metadata: { name: "x" } })).to.have.length(1);
        expect(validateKubernetesObject({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: {}, provisioner: "p" })).to.deep.equal(["/metadata/name: required"]);
    });
});
