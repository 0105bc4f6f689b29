#!/bin/bash
# The NAT instance: forwards the private subnets' IPv4 traffic to the internet, masqueraded as its own
# Elastic IP. Its one network interface is owned by the stack (source/destination check off, the EIP, the
# private route tables' default route), so a replacement instance takes over without any AWS API call.
set -euo pipefail

cat >/etc/sysctl.d/90-kaws-nat.conf <<'SYSCTL'
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
SYSCTL
sysctl --system >/dev/null

# The AMI's release pins the package repository, so this installs the same nftables on every boot.
dnf install -y nftables

uplink=$(ip -4 route show default | awk '{ print $5; exit }')
if [ -z "$uplink" ]; then
  echo "kaws-nat: no default route" >&2
  exit 1
fi

cat >/etc/sysconfig/nftables.conf <<NFT
table ip kaws_nat {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ip saddr ${KAWS_PRIVATE_CIDRS} oifname "${uplink}" accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${KAWS_PRIVATE_CIDRS} oifname "${uplink}" masquerade
  }
}
NFT
nft -c -f /etc/sysconfig/nftables.conf
systemctl enable nftables
systemctl restart nftables
echo "kaws-nat: forwarding ${KAWS_PRIVATE_CIDRS} through ${uplink}"
