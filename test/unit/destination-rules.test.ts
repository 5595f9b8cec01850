/**
 * Where convoflow may send (SPEC section 12): the address rule, as a table of the ranges and spellings
 * the issue names, and as properties over every address.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import type { ForbiddenReason } from '../../channels/destination-rules';
import { classifyAddress, classifyHost, classifyIPv4, parseIPv4, parseIPv6 } from '../../channels/destination-rules';

const verdictOf = (address: string) => {
  const verdict = classifyAddress(address);
  if (verdict === undefined) return 'not an address';
  return verdict.allowed ? 'allowed' : verdict.reason;
};

describe('classifyAddress', () => {
  it.each<[string, ForbiddenReason | 'allowed']>([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['8.8.8.8', 'allowed'],
    ['172.32.0.1', 'allowed'],
    ['100.128.0.1', 'allowed'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:8.8.8.8', 'allowed'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['64:ff9b::8.8.8.8', 'allowed'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::1', 'private'],
    ['2002:808:808::1', 'allowed'],
    ['::127.0.0.1', 'reserved'],
    ['fc00::', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fe80::', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['100::1', 'reserved'],
    ['3fff::1', 'allowed'],
    ['4000::1', 'reserved'],
    ['2606:4700:4700::1111', 'allowed'],
    ['[::1]', 'loopback'],
  ])('%s is %s', (address, expected) => {
    expect(verdictOf(address)).toBe(expected);
  });

  it.each(['', 'localhost', 'example.com', '127.1', '2130706433', '0x7f.0.0.1', '127.0.0.01', '256.0.0.1', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::', '::ffff:1.2.3'])(
    '%p is not an address the resolver would hand over',
    (text) => {
      // Shorthand IPv4 is WHATWG URL's to normalize (below); here only the canonical forms are addresses.
      expect(verdictOf(text)).toBe('not an address');
    },
  );
});

describe('classifyHost (a URL hostname, after WHATWG URL has normalized it)', () => {
  it.each([
    ['https://127.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://017700000001/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::1]:8443/', 'loopback'],
    ['https://[fc00::]/', 'unique_local'],
    ['https://[fe80::1]/', 'link_local'],
    ['https://169.254.169.254/latest/meta-data/', 'link_local'],
    ['https://10.0.0.1/', 'private'],
    ['https://100.64.0.1/', 'cgnat'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://0/', 'unspecified'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://[::]/', 'unspecified'],
    ['https://[64:ff9b::7f00:1]/', 'loopback'],
  ])('%s is %s', (url, reason) => {
    const host = classifyHost(new URL(url).hostname);
    expect(host).toMatchObject({ kind: 'address', allowed: false, reason });
  });

  it('leaves names to be judged when they resolve', () => {
    for (const url of ['https://localhost/', 'https://hooks.example.com/x', 'https://127.0.0.1.nip.io/']) expect(classifyHost(new URL(url).hostname)).toEqual({ kind: 'name' });
  });

  it('allows a public address', () => {
    expect(classifyHost(new URL('https://93.184.215.14/').hostname)).toMatchObject({ kind: 'address', allowed: true });
    expect(classifyHost(new URL('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/').hostname)).toMatchObject({ kind: 'address', allowed: true });
  });
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hex16 = (n: number) => n.toString(16);
const reasonOf = (v: ReturnType<typeof classifyIPv4>) => (v.allowed ? 'allowed' : v.reason);

describe('properties', () => {
  it('reads every IPv4 address back as itself', () => {
    fc.assert(fc.property(u32, (n) => parseIPv4(dotted(n)) === n));
  });

  it('judges every spelling WHATWG URL accepts for an IPv4 address like its dotted form', () => {
    fc.assert(
      fc.property(u32, (n) => {
        const expected = reasonOf(classifyIPv4(n));
        for (const spelling of [String(n), `0x${n.toString(16)}`, `${n >>> 24}.${n & 0xffffff}`, `0${n.toString(8)}`]) {
          const host = classifyHost(new URL(`https://${spelling}/`).hostname);
          if (host.kind !== 'address' || (host.allowed ? 'allowed' : host.reason) !== expected) return false;
        }
        return true;
      }),
    );
  });

  it('judges an IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4) like that IPv4 address', () => {
    fc.assert(
      fc.property(u32, (n) => {
        const expected = reasonOf(classifyIPv4(n));
        const hi = hex16(n >>> 16);
        const lo = hex16(n & 0xffff);
        return [`::ffff:${dotted(n)}`, `::ffff:${hi}:${lo}`, `64:ff9b::${dotted(n)}`, `64:ff9b::${hi}:${lo}`, `2002:${hi}:${lo}::1`].every((a) => verdictOf(a) === expected);
      }),
    );
  });

  it('judges an IPv6 address the same in every textual form', () => {
    const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, (g) => {
        const full = g.map((x) => x.toString(16).padStart(4, '0')).join(':');
        const canonical = new URL(`https://[${full}]/`).hostname.slice(1, -1);
        expect(isIP(canonical)).toBe(6);
        expect(parseIPv6(full)).toEqual(g);
        expect(parseIPv6(canonical)).toEqual(g);
        expect(verdictOf(full)).toBe(verdictOf(canonical));
        expect(verdictOf(`[${canonical}]`)).toBe(verdictOf(full));
      }),
    );
  });

  it('forbids every address of the ranges the issue names', () => {
    const inRange = (first: string, prefix: number) => u32.map((n) => (parseIPv4(first)! + (n % 2 ** (32 - prefix))) >>> 0);
    const ranges: [string, number][] = [
      ['127.0.0.0', 8],
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['169.254.0.0', 16],
      ['100.64.0.0', 10],
      ['224.0.0.0', 4],
      ['0.0.0.0', 8],
    ];
    for (const [first, prefix] of ranges) {
      fc.assert(fc.property(inRange(first, prefix), (n) => !classifyIPv4(n).allowed && classifyAddress(`::ffff:${dotted(n)}`)!.allowed === false));
    }
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        classifyAddress(text);
        classifyHost(text);
      }),
    );
  });
});
