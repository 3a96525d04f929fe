package main

import (
	"strings"
	"testing"

	"portcullis.dev/edge/sandbox"
)

func TestResolveWorkerUser(t *testing.T) {
	for _, tc := range []struct {
		value string
		euid  int
		want  *sandbox.User
		err   string
	}{
		{value: "", euid: 1000},
		{value: "edge", euid: 0},
		{value: "", euid: 0, want: &sandbox.User{UID: 65534, GID: 65534}},
		{value: "nobody", euid: 0, want: &sandbox.User{UID: 65534, GID: 65534}},
		{value: "1234:5678", euid: 0, want: &sandbox.User{UID: 1234, GID: 5678}},
		{value: "nobody:1234", euid: 0, want: &sandbox.User{UID: 65534, GID: 1234}},
		{value: "nobody", euid: 1000, err: "needs an edge that runs as root"},
		{value: "root", euid: 0, err: `"root" is root`},
		{value: "1234:0", euid: 0, err: "is root"},
		{value: "4242", euid: 0, err: "give UID:GID"},
		{value: "no-such-user", euid: 0, err: "name a user of /etc/passwd"},
		{value: "nobody:no-such-group", euid: 0, err: "name a group of /etc/group"},
	} {
		got, err := resolveWorkerUser(tc.value, tc.euid)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--plugin-worker-user") {
				t.Errorf("resolveWorkerUser(%q, %d) error = %v, want one that contains %q and names the flag", tc.value, tc.euid, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveWorkerUser(%q, %d): %v", tc.value, tc.euid, err)
			continue
		}
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("resolveWorkerUser(%q, %d) = %v, want %v", tc.value, tc.euid, got, tc.want)
		}
	}
}
