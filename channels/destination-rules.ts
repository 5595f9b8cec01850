/**
 * Where convoflow may send (SPEC section 12, "Outbound destinations"): the rule that tells a public
 * address from one of the operator's own networks. Pure: text in, verdict out; no DNS, no sockets.
 * channels/outbound-http.ts applies it to every address a name resolves to, at every connection, and
 * api/channels.ts to a webhook URL whose host is written as an address.
 *
 * Addresses are read the way the resolver and WHATWG URL hand them over: IPv4 as four decimal parts
 * (`new URL()` has already turned `127.1`, `2130706433` and `0x7f.1` into `127.0.0.1`), IPv6 in any
 * of its spellings (compressed, with an embedded IPv4 tail, with a zone). An IPv6 address that carries
 * an IPv4 address (mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the
 * IPv4 address it leads to.
 */

export type ForbiddenReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unique_local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  /** Documentation, benchmarking, deprecated and unassigned ranges, and tunnels that hide their endpoint (Teredo). */
  | 'reserved';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: ForbiddenReason };

/** The host of a URL as the rules see it: a name (checked when it resolves), an address, or neither. */
export type HostVerdict = { kind: 'name' } | ({ kind: 'address'; address: string } & AddressVerdict);

const allowed: AddressVerdict = { allowed: true };
const forbidden = (reason: ForbiddenReason): AddressVerdict => ({ allowed: false, reason });

/** What a person reads in an error: one phrase per reason (a new reason does not compile without one). */
export function describeReason(reason: ForbiddenReason): string {
  switch (reason) {
    case 'loopback':
      return 'a loopback address';
    case 'private':
      return 'a private address';
    case 'link_local':
      return 'a link-local address';
    case 'unique_local':
      return 'a unique-local address';
    case 'cgnat':
      return 'a carrier-grade NAT address';
    case 'multicast':
      return 'a multicast address';
    case 'unspecified':
      return 'an unspecified address';
    case 'broadcast':
      return 'the broadcast address';
    case 'reserved':
      return 'a reserved address';
  }
}

/** IPv4 ranges that are not the public internet: [first address, prefix length, reason]. */
const ipv4Ranges: readonly [string, number, ForbiddenReason][] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 itself reaches the local host
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'], // cloud metadata services live here
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // documentation
  ['203.0.113.0', 24, 'reserved'], // documentation
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'], // future use (after the broadcast address, which it contains)
];

/** Four decimal parts, 0-255 each, no leading zeros beyond one digit: the only IPv4 spelling read here. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

const ipv4Table = ipv4Ranges.map(([first, prefix, reason]) => ({ first: parseIPv4(first)!, size: 2 ** (32 - prefix), reason }));

export function classifyIPv4(value: number): AddressVerdict {
  for (const range of ipv4Table) if (value >= range.first && value < range.first + range.size) return forbidden(range.reason);
  return allowed;
}

/**
 * An IPv6 address as eight 16-bit groups, from any textual form: `::` compression, a dotted IPv4 tail,
 * a zone (`%eth0`, dropped). Undefined when it is not one.
 */
export function parseIPv6(text: string): number[] | undefined {
  let rest = text;
  const zone = rest.indexOf('%');
  if (zone >= 0) rest = rest.slice(0, zone);
  if (rest === '' || /[^0-9a-fA-F:.]/.test(rest)) return undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const last = rest.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail is the last two groups written another way.
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    rest = `${rest.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    for (const g of half.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const after = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || after === undefined) return undefined;
  const given = head.length + after.length;
  if (halves.length === 2) return given > 7 ? undefined : [...head, ...new Array<number>(8 - given).fill(0), ...after];
  return given === 8 ? head : undefined;
}

const v4Of = (groups: number[], at: number): number => groups[at]! * 65536 + groups[at + 1]!;

export function classifyIPv6(g: number[]): AddressVerdict {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return forbidden('unspecified');
  if (zeroUpTo(7) && g[7] === 1) return forbidden('loopback');
  // IPv4-mapped (::ffff:a.b.c.d): the socket reaches the IPv4 address itself.
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIPv4(v4Of(g, 6));
  // IPv4-compatible (::a.b.c.d, deprecated) and IPv4-translated (::ffff:0:a.b.c.d): never a public destination.
  if (zeroUpTo(6) || (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0)) return forbidden('reserved');
  // NAT64 (64:ff9b::/96): the gateway forwards to the IPv4 address in the last 32 bits.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIPv4(v4Of(g, 6));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return forbidden('private'); // local-use NAT64 (64:ff9b:1::/48)
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return forbidden('reserved'); // discard-only 100::/64
  // 6to4 (2002::/16): the relay forwards to the IPv4 address in bits 16-48.
  if (g[0] === 0x2002) return classifyIPv4(v4Of(g, 1));
  if (g[0] === 0x2001 && g[1] === 0) return forbidden('reserved'); // Teredo: the endpoint is hidden in the address
  if (g[0] === 0x2001 && g[1] === 0xdb8) return forbidden('reserved'); // documentation
  if (g[0] === 0x2001 && g[1] === 2 && g[2] === 0) return forbidden('reserved'); // benchmarking
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return forbidden('unique_local'); // fc00::/7
  if ((first & 0xffc0) === 0xfe80) return forbidden('link_local'); // fe80::/10
  if ((first & 0xffc0) === 0xfec0) return forbidden('private'); // site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return forbidden('multicast');
  // Only global unicast (2000::/3) is the internet; the rest is unassigned or special.
  if ((first & 0xe000) !== 0x2000) return forbidden('reserved');
  return allowed;
}

/** Any address as text (IPv4 dotted, or IPv6 with or without brackets); undefined when it is not one. */
export function classifyAddress(text: string): AddressVerdict | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return classifyIPv4(v4);
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v6 = parseIPv6(bare);
  return v6 === undefined ? undefined : classifyIPv6(v6);
}

/**
 * A URL's hostname as WHATWG URL gives it (IPv4 shorthand already normalized, IPv6 in brackets): an
 * address with its verdict, or a name, whose addresses are judged when it is resolved.
 */
export function classifyHost(hostname: string): HostVerdict {
  const verdict = classifyAddress(hostname);
  if (verdict === undefined) return { kind: 'name' };
  return { kind: 'address', address: hostname.replace(/^\[|\]$/g, ''), ...verdict };
}
