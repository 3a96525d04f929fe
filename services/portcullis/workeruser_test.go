package main

import (
	"os"
	"strings"
	"testing"

	"portcullis.dev/edge/sandbox"
)

// Identities of edges for TestResolveWorkerUser.
var (
	allIDs       = []idRange{{first: 0, count: 4294967295}}
	rootEdge     = processIdentity{uid: 0, gid: 0, canSwitch: true, uidMap: allIDs, gidMap: allIDs}
	rootNoCaps   = processIdentity{uid: 0, gid: 0, uidMap: allIDs, gidMap: allIDs}
	rootOneID    = processIdentity{uid: 0, gid: 0, canSwitch: true, uidMap: []idRange{{first: 0, count: 1}}, gidMap: []idRange{{first: 0, count: 1}}}
	userEdge     = processIdentity{uid: 1000, gid: 1000, uidMap: allIDs, gidMap: allIDs}
	nobodyEdge   = processIdentity{uid: 65534, gid: 65534, uidMap: allIDs, gidMap: allIDs}
	nobodyWorker = &sandbox.User{UID: 65534, GID: 65534}
)

func TestResolveWorkerUser(t *testing.T) {
	for _, tc := range []struct {
		value string
		edge  processIdentity
		want  *sandbox.User
		err   string
	}{
		{value: "", edge: rootEdge, want: nobodyWorker},
		{value: "", edge: rootNoCaps},
		{value: "", edge: rootOneID},
		{value: "", edge: userEdge},
		{value: "edge", edge: rootEdge},
		{value: "nobody", edge: rootEdge, want: nobodyWorker},
		{value: "1234:5678", edge: rootEdge, want: &sandbox.User{UID: 1234, GID: 5678}},
		{value: "nobody:1234", edge: rootEdge, want: &sandbox.User{UID: 65534, GID: 1234}},
		{value: "nobody", edge: nobodyEdge},
		{value: "nobody", edge: userEdge, err: "CAP_SETUID and CAP_SETGID"},
		{value: "nobody", edge: rootNoCaps, err: "CAP_SETUID and CAP_SETGID"},
		{value: "1234:5678", edge: rootOneID, err: "is not mapped in the edge's user namespace"},
		{value: "root", edge: rootEdge, err: `"root" is root`},
		{value: "1234:0", edge: rootEdge, err: "is root"},
		{value: "4294967295:4294967295", edge: rootEdge, err: "means \"no change\""},
		{value: "4242:4294967295", edge: rootEdge, err: "means \"no change\""},
		{value: "4242", edge: rootEdge, err: "give UID:GID"},
		{value: "no-such-user", edge: rootEdge, err: "name a user of /etc/passwd"},
		{value: "nobody:no-such-group", edge: rootEdge, err: "name a group of /etc/group"},
		{value: "4242:", edge: rootEdge, err: "the user or the group is empty"},
		{value: ":4242", edge: rootEdge, err: "the user or the group is empty"},
	} {
		got, err := resolveWorkerUser(tc.value, tc.edge)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--plugin-worker-user") {
				t.Errorf("resolveWorkerUser(%q, %+v) error = %v, want one that contains %q and names the flag", tc.value, tc.edge, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveWorkerUser(%q, %+v): %v", tc.value, tc.edge, err)
			continue
		}
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("resolveWorkerUser(%q, %+v) = %v, want %v", tc.value, tc.edge, got, tc.want)
		}
	}
}

func TestCurrentIdentityOfRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the test reads the identity of a process that runs as root")
	}

	identity := currentIdentity()
	if identity.uid != 0 || identity.gid != 0 {
		t.Errorf("identity ids = %d:%d, want 0:0", identity.uid, identity.gid)
	}
	if !identity.canSwitch {
		t.Errorf("root has no CAP_SETUID and CAP_SETGID in /proc/self/status")
	}
	if !identity.maps(nobodyWorker) {
		t.Errorf("id maps %v and %v do not map 65534", identity.uidMap, identity.gidMap)
	}
}
