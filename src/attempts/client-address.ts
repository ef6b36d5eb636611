import { isIPv4, isIPv6 } from 'node:net';

/**
 * The client a request is counted against in the per-client pool: an IPv4 address as it is,
 * an IPv6 address by its /64 (one subscriber or site usually gets a whole /64, so counting
 * single IPv6 addresses would give an attacker 2^64 fresh ones). IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, how Node reports IPv4 on a dual-stack socket) is the IPv4 address.
 */
export function clientGroup(address: string | null | undefined): string {
  if (!address) return 'unknown';
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(address)) return address;
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return 'unknown';
  return expandIPv6(bare).slice(0, 4).join(':') + '::/64';
}

/** The eight 16-bit groups of an IPv6 address, each as 4 lower-case hex digits. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (`::1.2.3.4`) as two hex groups.
  const v4 = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.padStart(4, '0'));
}
