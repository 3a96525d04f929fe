package hostsvc

import (
	"net/url"
	"testing"
)

func TestAllowedMatchesIPv6Entries(t *testing.T) {
	tests := []struct {
		target string
		entry  string
		want   bool
	}{
		{target: "http://[2001:db8::7]:8443/x", entry: "[2001:db8::7]:8443", want: true},
		{target: "http://[2001:db8::7]:8443/x", entry: "2001:db8::7", want: true},
		{target: "http://[2001:db8::7]:8443/x", entry: "[2001:db8::7]", want: true},
		{target: "https://[2001:db8::7]/x", entry: "[2001:db8::7]:443", want: true},
		{target: "http://[2001:db8::7]:8443/x", entry: "[2001:db8::7]:80", want: false},
		{target: "http://[2001:db8::8]/x", entry: "2001:db8::7", want: false},
		{target: "http://api.example.com/x", entry: "API.example.com", want: true},
	}
	for _, tt := range tests {
		target, err := url.Parse(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := allowed(target, []string{tt.entry}); got != tt.want {
			t.Errorf("allowed(%s, %q) = %v, want %v", tt.target, tt.entry, got, tt.want)
		}
	}
}
