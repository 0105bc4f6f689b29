import { Netmask, ip2long, long2ip } from "netmask";

export interface EtcdMemberPlan {
    readonly index: number;
    /** Member name, also its node role: etcd-<i>. */
    readonly name: string;
    /** Index of the AZ (and private subnet) the member lives in, round-robin. */
    readonly azIndex: number;
    /** Fixed private IP of the member's ENI. */
    readonly ip: string;
    /** Stable DNS name in the cluster's private zone. */
    readonly dnsName: string;
}

/** Private DNS zone of a cluster, associated with its VPC. */
export function internalDomain(clusterName: string): string {
    return `${clusterName}.internal`;
}

/** First host offset used for etcd ENIs: AWS reserves the first four addresses of every subnet. */
const firstEtcdHost = 10;

/**
 * Where each etcd member lives and how it is addressed. A pure function of the configuration, so the
 * initial cluster, certificate SANs and ENIs agree before anything exists, and stay stable.
 */
export function planEtcdMembers(clusterName: string, privateSubnetCidrs: readonly string[], members: number): EtcdMemberPlan[] {
    return [...Array(members).keys()].map((index) => {
        const azIndex = index % privateSubnetCidrs.length;
        const subnet = new Netmask(privateSubnetCidrs[azIndex]);
        return {
            index,
            name: `etcd-${index}`,
            azIndex,
            ip: long2ip(ip2long(subnet.base) + firstEtcdHost + Math.floor(index / privateSubnetCidrs.length)),
            dnsName: `etcd-${index}.${internalDomain(clusterName)}`,
        };
    });
}
