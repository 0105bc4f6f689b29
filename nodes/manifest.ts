import { stringify } from "yaml";

/** Kubernetes objects as one multi-document YAML file, in order (the form `kubectl apply -f` and `create -f` read). */
export function renderManifest(objects: readonly object[]): string {
    return objects.map((obj) => stringify(obj, { lineWidth: 0 })).join("---\n");
}
