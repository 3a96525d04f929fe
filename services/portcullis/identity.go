package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"portcullis.dev/edge/sandbox"
)

// processIdentity is the part of the edge's process that
// --plugin-worker-user depends on: its effective ids, whether it may
// switch a worker to another user, and the ids that its user namespace
// maps.
type processIdentity struct {
	uid, gid int
	// canSwitch is set on Linux when the effective capabilities hold
	// CAP_SETUID and CAP_SETGID.
	canSwitch      bool
	uidMap, gidMap []idRange
}

// idRange is one line of /proc/self/uid_map or gid_map: count ids from
// first, inside the namespace.
type idRange struct {
	first, count uint64
}

// Capability bits of CAP_SETGID and CAP_SETUID (capabilities(7)).
const (
	capSetGID = 6
	capSetUID = 7
)

// maps reports whether the edge's user namespace maps both ids of id.
func (p processIdentity) maps(id *sandbox.User) bool {
	return inRanges(p.uidMap, id.UID) && inRanges(p.gidMap, id.GID)
}

func inRanges(ranges []idRange, id uint32) bool {
	for _, r := range ranges {
		if uint64(id) >= r.first && uint64(id) < r.first+r.count {
			return true
		}
	}
	return false
}

// currentIdentity reads the identity of this process. Outside Linux, or
// when /proc cannot be read, it may switch no worker.
func currentIdentity() processIdentity {
	identity := processIdentity{uid: os.Geteuid(), gid: os.Getegid()}
	capabilities, ok := effectiveCapabilities()
	if !ok {
		return identity
	}

	identity.canSwitch = capabilities&(1<<capSetUID) != 0 && capabilities&(1<<capSetGID) != 0
	identity.uidMap = readIDMap("/proc/self/uid_map")
	identity.gidMap = readIDMap("/proc/self/gid_map")
	return identity
}

// effectiveCapabilities returns the CapEff mask of /proc/self/status.
func effectiveCapabilities() (uint64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(status)) {
		if value, found := strings.CutPrefix(line, "CapEff:"); found {
			mask, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
			return mask, err == nil
		}
	}
	return 0, false
}

// readIDMap parses an id map file, or returns nil when it cannot be read.
func readIDMap(path string) []idRange {
	file, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer file.Close()

	var ranges []idRange
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) != 3 {
			continue
		}
		first, firstErr := strconv.ParseUint(fields[0], 10, 32)
		count, countErr := strconv.ParseUint(fields[2], 10, 64)
		if firstErr == nil && countErr == nil {
			ranges = append(ranges, idRange{first: first, count: count})
		}
	}
	return ranges
}
