package main

import (
	"errors"
	"fmt"
	"math"
	"os/user"
	"strconv"
	"strings"

	"portcullis.dev/edge/sandbox"
)

// Values of --plugin-worker-user besides a user.
const (
	// workerUserAuto runs workers as nobody when the edge may switch to
	// that user, and as the edge's user otherwise.
	workerUserAuto = ""
	// workerUserEdge runs workers as the edge's user, also as root.
	workerUserEdge = "edge"
)

// nobodyID is the user and group id of nobody and nogroup on most Linux
// systems, taken when /etc/passwd has no user nobody.
const nobodyID = 65534

// workerUserFlag is the flag and the environment variable that errors name.
const workerUserFlag = "--plugin-worker-user, env PORTCULLIS_PLUGIN_WORKER_USER"

// resolveWorkerUser returns the user that plugin workers run as for the
// flag's value, given the edge's process. Nil keeps the edge's user. The
// empty value takes nobody only where the edge can switch to it, so an
// edge in a container without CAP_SETUID keeps its own user.
func resolveWorkerUser(value string, edge processIdentity) (*sandbox.User, error) {
	switch value {
	case workerUserEdge:
		return nil, nil
	case workerUserAuto:
		id := nobody()
		if !edge.canSwitch || !edge.maps(id) {
			return nil, nil
		}
		return id, nil
	}

	id, err := lookupWorkerUser(value)
	if err != nil {
		return nil, fmt.Errorf("plugin worker user %q: %w (%s)", value, err, workerUserFlag)
	}
	if err := checkWorkerUser(value, id, edge); err != nil {
		return nil, err
	}
	if int(id.UID) == edge.uid && int(id.GID) == edge.gid {
		return nil, nil
	}
	return id, nil
}

// checkWorkerUser checks that the edge can switch workers to id, which
// value named.
func checkWorkerUser(value string, id *sandbox.User, edge processIdentity) error {
	switch {
	case id.UID == 0 || id.GID == 0:
		return fmt.Errorf("plugin worker user %q is root: use %q to keep the edge's user on purpose, or name an unprivileged user (%s)", value, workerUserEdge, workerUserFlag)
	case id.UID == math.MaxUint32 || id.GID == math.MaxUint32:
		return fmt.Errorf("plugin worker user %q is invalid: 4294967295 means \"no change\" to the kernel, so workers would keep the edge's ids; name another user (%s)", value, workerUserFlag)
	case int(id.UID) == edge.uid && int(id.GID) == edge.gid:
		return nil
	case !edge.canSwitch:
		return fmt.Errorf("plugin worker user %q needs an edge on Linux with CAP_SETUID and CAP_SETGID, as root has outside a container, and this one runs as user %d without them: start the edge as root, or leave the flag empty to run workers as the edge's user (%s)", value, edge.uid, workerUserFlag)
	case !edge.maps(id):
		return fmt.Errorf("plugin worker user %q (%s) is not mapped in the edge's user namespace (/proc/self/uid_map and gid_map): name a user that the namespace maps (%s)", value, id, workerUserFlag)
	}
	return nil
}

// nobody returns the ids of the user nobody, or 65534:65534.
func nobody() *sandbox.User {
	id, err := lookupWorkerUser("nobody")
	if err != nil {
		return &sandbox.User{UID: nobodyID, GID: nobodyID}
	}
	return id
}

// lookupWorkerUser resolves USER or USER:GROUP, where each is a name or a
// number. A user without a group takes its primary group, so it must be
// in /etc/passwd.
func lookupWorkerUser(value string) (*sandbox.User, error) {
	userPart, groupPart, hasGroup := strings.Cut(value, ":")
	if userPart == "" || hasGroup && groupPart == "" {
		return nil, errors.New("the user or the group is empty: give USER, UID or USER:GROUP")
	}

	uid, userGID, err := lookupUserIDs(userPart, !hasGroup)
	if err != nil {
		return nil, err
	}
	if !hasGroup {
		return &sandbox.User{UID: uid, GID: userGID}, nil
	}
	gid, err := lookupGroupID(groupPart)
	if err != nil {
		return nil, err
	}
	return &sandbox.User{UID: uid, GID: gid}, nil
}

// lookupUserIDs returns the user id of name, a user name or number, and
// its primary group id when needGroup is set.
func lookupUserIDs(name string, needGroup bool) (uid, gid uint32, err error) {
	number, numberErr := strconv.ParseUint(name, 10, 32)
	if numberErr == nil && !needGroup {
		return uint32(number), 0, nil
	}

	lookup := user.Lookup
	if numberErr == nil {
		lookup = user.LookupId
	}
	found, err := lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: name a user of /etc/passwd, or give UID:GID", err)
	}
	return parseID(found.Uid), parseID(found.Gid), nil
}

// lookupGroupID returns the group id of name, a group name or number.
func lookupGroupID(name string) (uint32, error) {
	if number, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(number), nil
	}
	group, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("%w: name a group of /etc/group, or give its number", err)
	}
	return parseID(group.Gid), nil
}

// parseID parses an id that os/user returned, which is a decimal number
// on Linux.
func parseID(id string) uint32 {
	number, _ := strconv.ParseUint(id, 10, 32)
	return uint32(number)
}
