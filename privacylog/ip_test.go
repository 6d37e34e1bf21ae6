package privacylog

import "testing"

func TestTruncateIP(t *testing.T) {
	tests := []struct{ in, want string }{
		// IPv4 keeps its /24.
		{"192.0.2.123", "192.0.2.0"},
		{"192.0.2.123:54321", "192.0.2.0"},
		{" 203.0.113.9 ", "203.0.113.0"},
		{"10.0.0.255", "10.0.0.0"},
		// IPv4-mapped IPv6 is unmapped first, else its /48 keeps it whole.
		{"::ffff:192.0.2.123", "192.0.2.0"},
		{"[::ffff:192.0.2.123]:443", "192.0.2.0"},
		{"::ffff:c000:027b", "192.0.2.0"},
		// IPv6 keeps its /48.
		{"2001:db8:abcd:12:34:56:78:9a", "2001:db8:abcd::"},
		{"2001:DB8:ABCD:0012::1", "2001:db8:abcd::"},
		{"[2001:db8:abcd:12::1]:8080", "2001:db8:abcd::"},
		{"[2001:db8:abcd:12::1]", "2001:db8:abcd::"},
		{"::1", "::"},
		{"[::1]:1234", "::"},
		// Zones are dropped, bracketed or not.
		{"fe80::1234:5678%eth0", "fe80::"},
		{"[fe80::1%25en0]:80", "fe80::"},
		{"[fe80::1%eth0]:80", "fe80::"},
		// 6to4 2002:AABB:CCDD::/48 embeds 170.187.204.221: cut to its /24.
		{"2002:aabb:ccdd:1:2:3:4:5", "2002:aabb:cc00::"},
		{"[2002:c000:027b::1]:443", "2002:c000:200::"},
		// Teredo and NAT64 carry the client's IPv4 past bit 48 already.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136::"},
		{"64:ff9b::192.0.2.123", "64:ff9b::"},
		// Unparseable: nothing, never the input.
		{"", ""},
		{"unknown", ""},
		{"192.0.2", ""},
		{"192.0.2.1.5", ""},
		{"example.com:80", ""},
		{"[192.0.2.1", ""},
		{"2001:db8::zz", ""},
		{"@", ""},
	}
	for _, tt := range tests {
		if got := TruncateIP(tt.in); got != tt.want {
			t.Errorf("TruncateIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
