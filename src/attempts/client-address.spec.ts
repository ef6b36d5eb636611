import { clientGroup } from './client-address';

describe('clientGroup', () => {
  it('keeps an IPv4 address, also when reported as IPv4-mapped IPv6', () => {
    expect(clientGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(clientGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses by their /64, however they are written', () => {
    const group = '2001:0db8:0001:0002::/64';
    expect(clientGroup('2001:db8:1:2::1')).toBe(group);
    expect(clientGroup('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(group);
    expect(clientGroup('2001:DB8:1:2:0:0:0:abcd')).toBe(group);
    expect(clientGroup('2001:db8:1:2::1%eth0')).toBe(group);
    expect(clientGroup('2001:db8:1:3::1')).not.toBe(group);
    expect(clientGroup('::1')).toBe('0000:0000:0000:0000::/64');
    expect(clientGroup('2001:db8::')).toBe('2001:0db8:0000:0000::/64');
    expect(clientGroup('64:ff9b::192.0.2.33')).toBe('0064:ff9b:0000:0000::/64');
  });

  it('puts anything unreadable in one group of its own', () => {
    expect(clientGroup(undefined)).toBe('unknown');
    expect(clientGroup('not an address')).toBe('unknown');
  });
});
