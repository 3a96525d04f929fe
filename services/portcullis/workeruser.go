package main

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"portcullis.dev/edge/sandbox"
)

// Values of --plugin-worker-user besides a user.
const (
	// workerUserAuto runs workers as nobody when the edge runs as root,
	// and as the edge's user otherwise.
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
// flag's value, when the edge runs as effective user euid. Nil keeps the
// edge's user. Another user needs an edge that runs as root.
func resolveWorkerUser(value string, euid int) (*sandbox.User, error) {
	switch {
	case value == workerUserEdge:
		return nil, nil
	case value == workerUserAuto && euid != 0:
		return nil, nil
	case value == workerUserAuto:
		return nobody(), nil
	case euid != 0:
		return nil, fmt.Errorf("plugin worker user %q needs an edge that runs as root, and this one runs as user %d: start the edge as root, or leave the flag empty to run workers as the edge's user (%s)", value, euid, workerUserFlag)
	}

	id, err := lookupWorkerUser(value)
	if err != nil {
		return nil, fmt.Errorf("plugin worker user %q: %w (%s)", value, err, workerUserFlag)
	}
	if id.UID == 0 || id.GID == 0 {
		return nil, fmt.Errorf("plugin worker user %q is root: use %q to keep the edge's user on purpose, or name an unprivileged user (%s)", value, workerUserEdge, workerUserFlag)
	}
	return id, nil
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
